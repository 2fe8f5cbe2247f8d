{{/*
The helpers every stock chart shares (names, labels, annotations, image, service account) live in
the library chart stock-common (charts/stock-common); these wrappers keep the chart's own names.
*/}}
{{- define "backend-api.name" -}}
{{- include "stock-common.name" . -}}
{{- end }}

{{- define "backend-api.fullname" -}}
{{- include "stock-common.fullname" . -}}
{{- end }}

{{- define "backend-api.chart" -}}
{{- include "stock-common.chart" . -}}
{{- end }}

{{- define "backend-api.labels" -}}
{{- include "stock-common.labels" . -}}
{{- end }}

{{- define "backend-api.selectorLabels" -}}
{{- include "stock-common.selectorLabels" . -}}
{{- end }}

{{/*
Selector labels of the API pods only (Deployment, Service, PDB, spread).
The component label keeps the Service from selecting migration Job pods.
*/}}
{{- define "backend-api.apiSelectorLabels" -}}
{{ include "backend-api.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "backend-api.annotations" -}}
{{- include "stock-common.annotations" . -}}
{{- end }}

{{- define "backend-api.imageTag" -}}
{{- include "stock-common.imageTag" . -}}
{{- end }}

{{- define "backend-api.image" -}}
{{- include "stock-common.image" . -}}
{{- end }}

{{/*
Name of the migration Job: <fullname>-migrate-<tag>, at most 63 characters.
The tag is lower-cased, every run of characters outside [a-z0-9-] becomes "-";
a tag longer than 40 characters keeps its first 31 characters plus 8 hex
characters of its sha256, so that two long tags never share a Job name.
The fullname is shortened (never the tag) to fit.
*/}}
{{- define "backend-api.migrationJobName" -}}
{{- $raw := include "backend-api.imageTag" . -}}
{{- $tag := regexReplaceAll "[^a-z0-9-]+" ($raw | lower) "-" | trimAll "-" -}}
{{- if or (gt (len $tag) 40) (eq $tag "") -}}
{{- $tag = printf "%s-%s" ($tag | trunc 31 | trimSuffix "-") ($raw | sha256sum | trunc 8) | trimPrefix "-" -}}
{{- end -}}
{{- $prefix := include "backend-api.fullname" . | trunc (int (sub 54 (len $tag))) | trimSuffix "-" -}}
{{- printf "%s-migrate-%s" $prefix $tag -}}
{{- end }}

{{- define "backend-api.serviceAccountName" -}}
{{- include "stock-common.serviceAccountName" . -}}
{{- end }}

{{/*
envFrom of every container: the ConfigMap and the Secret named in values, each only when set.
*/}}
{{- define "backend-api.envFrom" -}}
{{- if or .Values.env.configmap .Values.env.secret }}
envFrom:
  {{- with .Values.env.configmap }}
  - configMapRef:
      name: {{ . | quote }}
  {{- end }}
  {{- with .Values.env.secret }}
  - secretRef:
      name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Plain env of every container: Python runtime settings that a read-only root
filesystem and a uid without a home directory need, our Python runtime on
PYTHONPATH when one is mounted, then extraEnv.
*/}}
{{- define "backend-api.env" -}}
env:
  - name: HOME
    value: /tmp
  - name: PYTHONUNBUFFERED
    value: "1"
  - name: PYTHONDONTWRITEBYTECODE
    value: "1"
  {{- if .Values.pythonRuntime.configMap }}
  - name: PYTHONPATH
    value: {{ .Values.pythonRuntime.mountPath | quote }}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
TLS entries of the Ingress: ingress.tls as given; or, when it is empty and
ingress.certManager.clusterIssuer is set, one entry for every host with a
generated secret name that cert-manager fills.
*/}}
{{- define "backend-api.ingressTLS" -}}
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
  secretName: {{ default (printf "%s-tls" (include "backend-api.fullname" .)) .Values.ingress.certManager.secretName | quote }}
{{- end }}
{{- end }}

{{/*
One probe's handler and timings. Call with (dict "probe" .Values.xProbe "name" "xProbe").
kind http: GET path on the http port; tcp: the http port accepts; exec: command.
*/}}
{{- define "backend-api.probe" -}}
{{- $p := .probe -}}
{{- $kind := $p.kind | default "http" -}}
{{- if eq $kind "http" }}
httpGet:
  path: {{ required (printf "%s.path is required when %s.kind is http" .name .name) $p.path }}
  port: http
{{- else if eq $kind "tcp" }}
tcpSocket:
  port: http
{{- else if eq $kind "exec" }}
{{- if not $p.command }}
{{- fail (printf "%s.command must list the command when %s.kind is exec" .name .name) }}
{{- end }}
exec:
  command:
    {{- toYaml $p.command | nindent 4 }}
{{- end }}
{{- with (omit $p "enabled" "kind" "path" "command") }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Volume mounts every app container adds after /tmp: the directories the app
writes (writablePaths) and our Python runtime (read-only), each when set.
*/}}
{{- define "backend-api.appMounts" -}}
{{- range $i, $p := .Values.writablePaths }}
- name: {{ printf "writable-%d" $i }}
  mountPath: {{ $p }}
{{- end }}
{{- if .Values.pythonRuntime.configMap }}
- name: python-runtime
  mountPath: {{ .Values.pythonRuntime.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
The volumes behind backend-api.appMounts.
*/}}
{{- define "backend-api.appVolumes" -}}
{{- range $i, $p := .Values.writablePaths }}
- name: {{ printf "writable-%d" $i }}
  emptyDir:
    {{- with $.Values.writableVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- end }}
{{- if .Values.pythonRuntime.configMap }}
- name: python-runtime
  configMap:
    name: {{ .Values.pythonRuntime.configMap | quote }}
{{- end }}
{{- end }}
