{{/*
The helpers every stock chart shares (names, labels, annotations, image, service account) live in
the library chart stock-common (charts/stock-common); these wrappers keep the chart's own names.
*/}}
{{- define "celery.name" -}}
{{- include "stock-common.name" . -}}
{{- end }}

{{- define "celery.fullname" -}}
{{- include "stock-common.fullname" . -}}
{{- end }}

{{- define "celery.chart" -}}
{{- include "stock-common.chart" . -}}
{{- end }}

{{- define "celery.labels" -}}
{{- include "stock-common.labels" . -}}
{{- end }}

{{- define "celery.selectorLabels" -}}
{{- include "stock-common.selectorLabels" . -}}
{{- end }}

{{- define "celery.annotations" -}}
{{- include "stock-common.annotations" . -}}
{{- end }}

{{- define "celery.imageTag" -}}
{{- include "stock-common.imageTag" . -}}
{{- end }}

{{- define "celery.image" -}}
{{- include "stock-common.image" . -}}
{{- end }}

{{- define "celery.serviceAccountName" -}}
{{- include "stock-common.serviceAccountName" . -}}
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
Every problem with the workers, one message each (Bitnami's validateValues pattern): names
missing, used twice or reserved, workers without queues. celery.workers fails once with all of them.
*/}}
{{- define "celery.validateValues.workers" -}}
{{- $messages := list -}}
{{- $seen := dict -}}
{{- range $i, $w := .Values.workers -}}
{{- if not (hasKey $w "name") -}}
{{- $messages = append $messages (printf "workers[%d].name is required" $i) -}}
{{- else -}}
{{- if hasKey $seen $w.name -}}
{{- $messages = append $messages (printf "workers[%d].name %q is used twice: every worker needs its own name (it names the Deployment)" $i $w.name) -}}
{{- end -}}
{{- if eq $w.name "beat" -}}
{{- $messages = append $messages (printf "workers[%d].name must not be \"beat\": that name belongs to the beat Deployment" $i) -}}
{{- end -}}
{{- $_ := set $seen $w.name true -}}
{{- end -}}
{{- if not (get $w "queues") -}}
{{- $messages = append $messages (printf "workers[%d] (%s): queues must list at least one queue" $i (get $w "name" | default "unnamed")) -}}
{{- end -}}
{{- $keda := include "celery.workerKeda" (dict "root" $ "worker" $w) | fromJson -}}
{{- if and $keda.enabled (gt (int $keda.minReplicaCount) (int $keda.maxReplicaCount)) -}}
{{- $messages = append $messages (printf "workers[%d] (%s): keda.minReplicaCount %d is above keda.maxReplicaCount %d" $i (get $w "name" | default "unnamed") (int $keda.minReplicaCount) (int $keda.maxReplicaCount)) -}}
{{- end -}}
{{- end -}}
{{- join "\n" $messages -}}
{{- end }}

{{/*
Fails once, listing every values problem the chart finds.
*/}}
{{- define "celery.validateValues" -}}
{{- $messages := without (list (include "celery.validateValues.workers" .)) "" -}}
{{- $message := join "\n" $messages -}}
{{- if $message -}}
{{- printf "\nVALUES VALIDATION:\n%s" $message | fail -}}
{{- end -}}
{{- end }}

{{/*
The workers, normalised: a JSON list where every worker has name, queues,
replicaCount, concurrency, logLevel, resources, autoscaling (the top-level
autoscaling with the worker's own keys on top) and keda (the same for the scaling
keys of the top-level keda; autoscaling.enabled is false when keda.enabled). Keys are tested with hasKey so
that 0 and false given by a worker are kept. Fails with every problem of
celery.validateValues first.
Use: {{- $workers := include "celery.workers" . | fromJsonArray }}
*/}}
{{- define "celery.workers" -}}
{{- include "celery.validateValues" . -}}
{{- $out := list -}}
{{- range $i, $w := .Values.workers -}}
{{- $queues := get $w "queues" | default list -}}
{{- $as := deepCopy $.Values.autoscaling -}}
{{- $own := get $w "autoscaling" | default dict -}}
{{- range $k, $v := $own -}}
{{- $_ := set $as $k $v -}}
{{- end -}}
{{- $keda := include "celery.workerKeda" (dict "root" $ "worker" $w) | fromJson -}}
{{- /* KEDA makes its own HPA: a second one on the same Deployment would fight it. */ -}}
{{- if $keda.enabled -}}
{{- $_ := set $as "enabled" false -}}
{{- end -}}
{{- $n := dict
      "name" $w.name
      "queues" $queues
      "replicaCount" (ternary (get $w "replicaCount") 1 (hasKey $w "replicaCount"))
      "concurrency" (ternary (get $w "concurrency") 2 (hasKey $w "concurrency"))
      "logLevel" (ternary (get $w "logLevel") "INFO" (hasKey $w "logLevel"))
      "resources" (ternary (get $w "resources") $.Values.resources (and (hasKey $w "resources") (not (empty (get $w "resources")))))
      "autoscaling" $as
      "keda" $keda -}}
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

{{/*
Name of the TriggerAuthentication every ScaledObject of the release uses: <fullname>-redis.
*/}}
{{- define "celery.triggerAuthenticationName" -}}
{{- printf "%s-redis" (include "celery.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end }}

{{/*
True ("true") when at least one worker is scaled by KEDA. Call with the normalised workers list
(celery.workers) as .workers.
*/}}
{{- define "celery.kedaInUse" -}}
{{- range $w := .workers -}}
{{- if $w.keda.enabled -}}true{{- end -}}
{{- end -}}
{{- end }}

{{/*
The KEDA scaling keys of one worker, as JSON: the top-level keda's, the worker's own on top (set
one by one so that a worker's 0 or false is kept). Call with (dict "root" $ "worker" $worker).
*/}}
{{- define "celery.workerKeda" -}}
{{- $keda := pick .root.Values.keda "enabled" "minReplicaCount" "maxReplicaCount" "listLength" "activationListLength" -}}
{{- range $k, $v := (get .worker "keda" | default dict) -}}
{{- $_ := set $keda $k $v -}}
{{- end -}}
{{- toJson $keda -}}
{{- end }}
