{{/*
Expand the name of the chart.
*/}}
{{- define "celery.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "celery.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "celery.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "celery.labels" -}}
helm.sh/chart: {{ include "celery.chart" . }}
{{ include "celery.selectorLabels" . }}
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
Selector labels shared by every pod of the release (all workers and beat).
The NetworkPolicy selects on these.
*/}}
{{- define "celery.selectorLabels" -}}
app.kubernetes.io/name: {{ include "celery.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common annotations (metadata.annotations of every object), may be empty.
*/}}
{{- define "celery.annotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
The image tag. Required: the Pulumi program always supplies an immutable tag.
*/}}
{{- define "celery.imageTag" -}}
{{- required "image.tag is required: set it to an immutable image tag (e.g. --set-string image.tag=ctx-0123456789abcdef)" .Values.image.tag -}}
{{- end }}

{{/*
Full image reference: repository@digest when a digest is given, else repository:tag.
*/}}
{{- define "celery.image" -}}
{{- $tag := include "celery.imageTag" . -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end }}

{{/*
Name of the service account to use.
*/}}
{{- define "celery.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "celery.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
envFrom of every container: the ConfigMap and the Secret named in values, each only when set.
*/}}
{{- define "celery.envFrom" -}}
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
Selector labels of one worker Deployment. Call with (dict "root" $ "worker" $worker).
*/}}
{{- define "celery.workerSelectorLabels" -}}
{{ include "celery.selectorLabels" .root }}
app.kubernetes.io/component: {{ printf "worker-%s" .worker.name }}
{{- end }}

{{/*
Selector labels of the beat Deployment.
*/}}
{{- define "celery.beatSelectorLabels" -}}
{{ include "celery.selectorLabels" . }}
app.kubernetes.io/component: beat
{{- end }}

{{/*
Name of one worker Deployment: <fullname>-<worker name>, at most 63 characters.
Call with (dict "root" $ "worker" $worker).
*/}}
{{- define "celery.workerFullname" -}}
{{- $suffix := printf "-%s" .worker.name -}}
{{- printf "%s%s" (include "celery.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end }}

{{/*
Name of the beat Deployment.
*/}}
{{- define "celery.beatFullname" -}}
{{- printf "%s-beat" (include "celery.fullname" . | trunc 58 | trimSuffix "-") -}}
{{- end }}

{{/*
Plain env of every container: Python runtime settings that a read-only root
filesystem and a uid without a home directory need, our Python runtime on
PYTHONPATH when one is mounted, then extraEnv.
*/}}
{{- define "celery.env" -}}
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
The workers, normalised: a JSON list where every worker has name, queues,
replicaCount, concurrency, logLevel, resources and autoscaling (the top-level
autoscaling with the worker's own keys on top). Keys are tested with hasKey so
that 0 and false given by a worker are kept. Fails on duplicate or reserved names.
Use: {{- $workers := include "celery.workers" . | fromJsonArray }}
*/}}
{{- define "celery.workers" -}}
{{- $out := list -}}
{{- $seen := dict -}}
{{- range $i, $w := .Values.workers -}}
{{- if not (hasKey $w "name") -}}
{{- fail (printf "workers[%d].name is required" $i) -}}
{{- end -}}
{{- if hasKey $seen $w.name -}}
{{- fail (printf "workers[%d].name %q is used twice: every worker needs its own name (it names the Deployment)" $i $w.name) -}}
{{- end -}}
{{- if eq $w.name "beat" -}}
{{- fail (printf "workers[%d].name must not be \"beat\": that name belongs to the beat Deployment" $i) -}}
{{- end -}}
{{- $_ := set $seen $w.name true -}}
{{- $queues := get $w "queues" | default list -}}
{{- if not $queues -}}
{{- fail (printf "workers[%d] (%s): queues must list at least one queue" $i $w.name) -}}
{{- end -}}
{{- $as := deepCopy $.Values.autoscaling -}}
{{- $own := get $w "autoscaling" | default dict -}}
{{- range $k, $v := $own -}}
{{- $_ := set $as $k $v -}}
{{- end -}}
{{- $n := dict
      "name" $w.name
      "queues" $queues
      "replicaCount" (ternary (get $w "replicaCount") 1 (hasKey $w "replicaCount"))
      "concurrency" (ternary (get $w "concurrency") 2 (hasKey $w "concurrency"))
      "logLevel" (ternary (get $w "logLevel") "INFO" (hasKey $w "logLevel"))
      "resources" (ternary (get $w "resources") $.Values.resources (and (hasKey $w "resources") (not (empty (get $w "resources")))))
      "autoscaling" $as -}}
{{- $out = append $out $n -}}
{{- end -}}
{{- toJson $out -}}
{{- end }}

{{/*
Pod-level fields shared by the worker and beat pods (after "spec:").
*/}}
{{- define "celery.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
serviceAccountName: {{ include "celery.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The heartbeat check: exit 0 while the heartbeat file is younger than maxAgeSeconds.
*/}}
{{- define "celery.heartbeatProbe" -}}
exec:
  command:
    - /bin/sh
    - -c
    - {{ printf "f=%s; test -f \"$f\" && test $(( $(date +%%s) - $(stat -c %%Y \"$f\") )) -lt %d" .Values.livenessProbe.heartbeatFile (int .Values.livenessProbe.maxAgeSeconds) | quote }}
{{- end }}

{{/*
Volume mounts every container adds after /tmp: the directories the app writes
(writablePaths) and our Python runtime (read-only), each when set.
*/}}
{{- define "celery.appMounts" -}}
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
The volumes behind celery.appMounts.
*/}}
{{- define "celery.appVolumes" -}}
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
