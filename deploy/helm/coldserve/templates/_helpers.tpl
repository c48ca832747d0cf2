{{/*
Chart name, truncated to the 63 characters a label value may hold.
*/}}
{{- define "coldserve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of this release's objects: RELEASE-coldserve, or RELEASE when it already contains
the chart name. The checkpoint ConfigMap appends "-checkpoint", so keep 52 characters.
*/}}
{{- define "coldserve.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "coldserve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fleet label value: the pods the Service selects (this release, plus canaries that join it).
*/}}
{{- define "coldserve.fleet" -}}
{{- default (include "coldserve.fullname" .) .Values.fleet | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of this release's own pods (Deployment, PDB): never shared with another release.
*/}}
{{- define "coldserve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coldserve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "coldserve.labels" -}}
helm.sh/chart: {{ include "coldserve.chart" . }}
{{ include "coldserve.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
coldserve.io/fleet: {{ include "coldserve.fleet" . }}
{{- end }}

{{- define "coldserve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "coldserve.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret the pods read (HF_TOKEN, COLDSERVE_API_KEY, COLDSERVE_ADMIN_TOKEN); empty when none.
*/}}
{{- define "coldserve.secretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else if .Values.secret.create }}
{{- include "coldserve.fullname" . }}
{{- end }}
{{- end }}

{{- define "coldserve.checkpointConfigMap" -}}
{{- printf "%s-checkpoint" (include "coldserve.fullname" .) }}
{{- end }}

{{/* Where the checkpoint ConfigMap is mounted (a directory), and the file inside it. */}}
{{- define "coldserve.checkpointDir" -}}/etc/coldserve/checkpoint{{- end }}
{{- define "coldserve.checkpointFile" -}}{{ include "coldserve.checkpointDir" . }}/checkpoint.yaml{{- end }}

{{- define "coldserve.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The declared-checkpoint document (checkpoint.yaml): the fields --checkpoint-file reads.
Optional fields are left out when unset.
*/}}
{{- define "coldserve.checkpointDocument" -}}
{{- $c := .Values.checkpoint }}
{{- if not $c.source }}
{{- fail "checkpoint.source is required when checkpoint.enabled is true" }}
{{- end }}
{{- $doc := dict "source" (toString $c.source) "revision" (toString (default "main" $c.revision)) }}
{{- with $c.sha256 }}
{{- if not (regexMatch "^(sha256:)?[0-9a-fA-F]{12,64}$" (toString .)) }}
{{- fail (printf "checkpoint.sha256 %q: want the checkpoint id (sha256:<12 hex digits>) or 12 to 64 hex digits of the weights digest" (toString .)) }}
{{- end }}
{{- $_ := set $doc "sha256" (toString .) }}
{{- end }}
{{- if not (kindIs "invalid" $c.minCosine) }}
{{- $m := float64 $c.minCosine }}
{{- if or (lt $m 0.0) (gt $m 1.0) }}
{{- fail (printf "checkpoint.minCosine %v: want a number from 0 to 1" $c.minCosine) }}
{{- end }}
{{- $_ := set $doc "min_cosine" $m }}
{{- end }}
{{- if $c.allowGeometryChange }}
{{- $_ := set $doc "allow_geometry_change" true }}
{{- end }}
{{- toYaml $doc }}
{{- end }}

{{/*
The preStop sleep plus --shutdown-grace must end before the kubelet's SIGKILL.
*/}}
{{- define "coldserve.validate" -}}
{{- $grace := int .Values.server.shutdownGraceSeconds }}
{{- $sleep := int .Values.lifecycle.preStopSleepSeconds }}
{{- $term := int .Values.terminationGracePeriodSeconds }}
{{- if le $term (add $grace $sleep) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed server.shutdownGraceSeconds (%d) + lifecycle.preStopSleepSeconds (%d)" $term $grace $sleep) }}
{{- end }}
{{- if and (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set maxUnavailable or minAvailable, not both (null the other)" }}
{{- end }}
{{- if not (has .Values.cache.type (list "emptyDir" "pvc" "existingClaim")) }}
{{- fail (printf "cache.type %q: want emptyDir, pvc or existingClaim" .Values.cache.type) }}
{{- end }}
{{- if and (eq .Values.cache.type "existingClaim") (not .Values.cache.existingClaim) }}
{{- fail "cache.type existingClaim needs cache.existingClaim" }}
{{- end }}
{{- if and .Values.model.bootFromCheckpoint (not .Values.checkpoint.enabled) }}
{{- fail "model.bootFromCheckpoint needs checkpoint.enabled" }}
{{- end }}
{{- if and .Values.checkpoint.enabled (not .Values.server.allowHub) (not .Values.server.checkpointRoots) }}
{{- fail "checkpoint: a declared source must be a Hub id (server.allowHub) or a directory under server.checkpointRoots, and neither is allowed" }}
{{- end }}
{{- if lt (int .Values.server.workers) 1 }}
{{- fail "server.workers must be at least 1" }}
{{- end }}
{{- end }}

{{/*
OMP_NUM_THREADS as an env entry (see ompNumThreads in values.yaml).
*/}}
{{- define "coldserve.ompEnv" -}}
{{- $workers := int .Values.server.workers }}
{{- $n := int .Values.ompNumThreads }}
- name: OMP_NUM_THREADS
{{- if gt $n 0 }}
  value: {{ $n | quote }}
{{- else if eq $workers 1 }}
  valueFrom:
    resourceFieldRef:
      containerName: coldserve
      resource: limits.cpu
      divisor: "1"
{{- else }}
{{- $limit := "" }}
{{- with .Values.resources }}{{ with .limits }}{{ with .cpu }}{{ $limit = toString . }}{{ end }}{{ end }}{{ end }}
{{- $cores := 0 }}
{{- if regexMatch "^[0-9]+$" $limit }}
{{- $cores = atoi $limit }}
{{- else if regexMatch "^[0-9]+000m$" $limit }}
{{- $cores = div (atoi (trimSuffix "m" $limit)) 1000 }}
{{- else }}
{{- fail (printf "ompNumThreads: with server.workers %d, set ompNumThreads explicitly or a whole-core resources.limits.cpu (got %q)" $workers $limit) }}
{{- end }}
  value: {{ max 1 (div $cores $workers) | quote }}
{{- end }}
{{- end }}
