{{/*
The release's ServiceAccount, when serviceAccount.create: named by stock-common.serviceAccountName,
with the chart's labels and annotations; automountServiceAccountToken from serviceAccount.automountToken.
Usage, in a chart's templates/serviceaccount.yaml: {{ include "stock-common.serviceAccount" . }}
*/}}
{{- define "stock-common.serviceAccount" -}}
{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "stock-common.serviceAccountName" . }}
  namespace: {{ .Release.Namespace | quote }}
  labels:
    {{- include "stock-common.labels" . | nindent 4 }}
  {{- $annotations := merge (dict) (.Values.serviceAccount.annotations | default dict) (include "stock-common.annotations" . | fromYaml | default dict) }}
  {{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
{{- end }}
{{- end }}
