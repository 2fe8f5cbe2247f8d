{{/*
The helpers every stock chart shares (names, labels, annotations, image, service account) live in
the library chart stock-common (charts/stock-common); these wrappers keep the chart's own names.
*/}}
{{- define "frontend.name" -}}
{{- include "stock-common.name" . -}}
{{- end }}

{{- define "frontend.fullname" -}}
{{- include "stock-common.fullname" . -}}
{{- end }}

{{- define "frontend.chart" -}}
{{- include "stock-common.chart" . -}}
{{- end }}

{{- define "frontend.labels" -}}
{{- include "stock-common.labels" . -}}
{{- end }}

{{- define "frontend.selectorLabels" -}}
{{- include "stock-common.selectorLabels" . -}}
{{- end }}

{{- define "frontend.annotations" -}}
{{- include "stock-common.annotations" . -}}
{{- end }}

{{- define "frontend.imageTag" -}}
{{- include "stock-common.imageTag" . -}}
{{- end }}

{{- define "frontend.image" -}}
{{- include "stock-common.image" . -}}
{{- end }}

{{- define "frontend.serviceAccountName" -}}
{{- include "stock-common.serviceAccountName" . -}}
{{- end }}

{{/*
TLS entries of the Ingress: ingress.tls as given; or, when it is empty and
ingress.certManager.clusterIssuer is set, one entry for every host with a
generated secret name that cert-manager fills.
*/}}
{{- define "frontend.ingressTLS" -}}
{{- if .Values.ingress.tls }}
{{- range .Values.ingress.tls }}
- hosts:
    {{- range .hosts }}
    - {{ . | quote }}
    {{- end }}
  secretName: {{ .secretName | quote }}
{{- end }}
{{- else if .Values.ingress.certManager.clusterIssuer }}
- hosts:
    {{- range .Values.ingress.hosts }}
    - {{ .host | quote }}
    {{- end }}
  secretName: {{ default (printf "%s-tls" (include "frontend.fullname" .)) .Values.ingress.certManager.secretName | quote }}
{{- end }}
{{- end }}
