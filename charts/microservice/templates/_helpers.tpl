{{/* Name of every object and of the container: fullnameOverride, else the release name. */}}
{{- define "microservice.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* app.kubernetes.io/name and the `app` label Istio reads for telemetry and policy. */}}
{{- define "microservice.name" -}}
{{- default (include "microservice.fullname" .) .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "microservice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: immutable on a Deployment, so nothing that changes between releases. */}}
{{- define "microservice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "microservice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "microservice.labels" -}}
helm.sh/chart: {{ include "microservice.chart" . }}
{{ include "microservice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Pod labels: podLabels plus `app`, with the selector labels winning any clash. */}}
{{- define "microservice.podLabels" -}}
{{- $selector := include "microservice.selectorLabels" . | fromYaml }}
{{- $app := dict "app" (include "microservice.name" .) }}
{{- toYaml (merge (dict) $selector $app .Values.podLabels) }}
{{- end }}

{{- define "microservice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "microservice.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "microservice.image" -}}
{{- $repository := required "image.repository is required" .Values.image.repository }}
{{- $tag := required "image.tag is required (pin a tag, not latest)" .Values.image.tag }}
{{- /* A digest pins the image itself: repo@sha256:<hex>; anything else is a tag: repo:tag. */ -}}
{{- if hasPrefix "sha256:" (toString $tag) }}
{{- printf "%s@%s" $repository (toString $tag) }}
{{- else }}
{{- printf "%s:%s" $repository (toString $tag) }}
{{- end }}
{{- end }}

{{/* One httpGet probe on the container port: (list $path $settings), $settings holding its timings. */}}
{{- define "microservice.probe" -}}
{{- $path := index . 0 }}
{{- $settings := index . 1 -}}
httpGet:
  path: {{ $path }}
  port: http
{{ toYaml $settings }}
{{- end }}
