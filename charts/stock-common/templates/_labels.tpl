{{/*
Common labels
*/}}
{{- define "stock-common.labels" -}}
helm.sh/chart: {{ include "stock-common.chart" . }}
{{ include "stock-common.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stock
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels shared by every pod of the release (API and migration Job).
The NetworkPolicy selects on these.
*/}}
{{- define "stock-common.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stock-common.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common annotations (metadata.annotations of every object), may be empty.
*/}}
{{- define "stock-common.annotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end }}
