{{/* Names. Cluster-scoped objects carry the release's full name, so two releases never collide. */}}
{{- define "chaperone.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "chaperone.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The controller's Deployment, Service, RBAC and certificate share this name. */}}
{{- define "chaperone.controller" -}}
{{- printf "%s-controller" (include "chaperone.fullname" .) -}}
{{- end -}}

{{- define "chaperone.tlsSecret" -}}
{{- printf "%s-controller-tls" (include "chaperone.fullname" .) -}}
{{- end -}}

{{- define "chaperone.webhookConfig" -}}
{{- printf "%s-webhook" (include "chaperone.fullname" .) -}}
{{- end -}}

{{- define "chaperone.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "chaperone.controller" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* DNS names of the controller's Service: what the serving certificate must cover. */}}
{{- define "chaperone.serviceDnsNames" -}}
{{- $svc := include "chaperone.controller" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.controller.clusterDomain) | toJson -}}
{{- end -}}

{{- define "chaperone.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "chaperone.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chaperone
{{- end -}}

{{- define "chaperone.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chaperone.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* image: repository[:tag][@digest]; the tag defaults to the chart's appVersion. */}}
{{- define "chaperone.image" -}}
{{- $image := .image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .appVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "chaperone.controllerUrl" -}}
{{- printf "https://%s.%s.svc:443" (include "chaperone.controller" .) .Release.Namespace -}}
{{- end -}}
