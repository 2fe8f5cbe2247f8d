{{/*
The image tag. Required: the Pulumi program always supplies an immutable tag.
*/}}
{{- define "stock-common.imageTag" -}}
{{- required "image.tag is required: set it to an immutable image tag (e.g. --set-string image.tag=ctx-0123456789abcdef)" .Values.image.tag -}}
{{- end }}

{{/*
Full image reference: repository@digest when a digest is given, else repository:tag.
*/}}
{{- define "stock-common.image" -}}
{{- $tag := include "stock-common.imageTag" . -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end }}
