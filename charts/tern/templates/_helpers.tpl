{{/* Release-scoped name prefix: "tern" for a release named tern (what the rate controller's scaler defaults to). */}}
{{- define "tern.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 30 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 30 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The Deployment the rate controller scales: one definition for the Deployment and for TERN_RATECONTROL_SCALE_DEPLOYMENT. */}}
{{- define "tern.bypassName" -}}
{{- printf "%s-bypass-consumer" (include "tern.fullname" .) -}}
{{- end -}}

{{- define "tern.brokerName" -}}
{{- printf "%s-broker-%s" (include "tern.fullname" .root) .region.name -}}
{{- end -}}

{{/* Selector labels; args: root, component */}}
{{- define "tern.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tern.labels" -}}
{{ include "tern.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* <registry/><repository>/<role>:<tag>; args: root, role */}}
{{- define "tern.image" -}}
{{- $i := .root.Values.image -}}
{{- printf "%s%s/%s:%s" $i.registry $i.repository .role $i.tag -}}
{{- end -}}

{{- define "tern.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "tern.fullname" .) -}}
{{- else -}}
{{- required "secrets.existingSecret must name a Secret when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* An env var from the platform Secret; args: root, env, key, optional */}}
{{- define "tern.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "tern.secretName" .root }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* The Redis URI: a value, or a Secret key when it carries a password; args: root, env */}}
{{- define "tern.redisEnv" -}}
{{- $r := .root.Values.redis -}}
- name: {{ .env }}
{{- if $r.uriSecret.name }}
  valueFrom:
    secretKeyRef:
      name: {{ $r.uriSecret.name }}
      key: {{ $r.uriSecret.key }}
{{- else }}
  value: {{ $r.uri | quote }}
{{- end }}
{{- end -}}

{{/* POD_NAME and POD_IP first: later values refer to them as $(POD_NAME), $(POD_IP). */}}
{{- define "tern.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end -}}

{{/*
TLS keys <role>.tls.*; args: root, prefix (TERN_BROKER). Outside dev mode a role refuses to start with TLS off
unless <role>.tls.plain=true says plain is meant (e.g. a mesh or load balancer terminates TLS).
*/}}
{{- define "tern.tlsEnv" -}}
{{- if .root.Values.tls.enabled }}
- name: {{ .prefix }}_TLS_ENABLED
  value: "true"
- name: {{ .prefix }}_TLS_CERT_CHAIN
  value: /etc/tern/tls/tls.crt
- name: {{ .prefix }}_TLS_PRIVATE_KEY
  value: /etc/tern/tls/tls.key
- name: {{ .prefix }}_TLS_CA
  value: /etc/tern/tls/ca.crt
{{- else }}
- name: {{ .prefix }}_TLS_PLAIN
  value: "true"
{{- end }}
{{- end -}}

{{- define "tern.tlsMount" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/tern/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "tern.tlsVolume" -}}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ required "tls.secretName must name a Secret with tls.crt, tls.key and ca.crt when tls.enabled" .Values.tls.secretName }}
{{- end }}
{{- end -}}

{{/* Extra settings: config keys without the role prefix -> env; args: prefix (TERN_BROKER), settings (map) */}}
{{- define "tern.settingsEnv" -}}
{{- range $k, $v := .settings }}
- name: {{ printf "%s_%s" $.prefix ($k | upper | replace "-" "_" | replace "." "_") }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{/* Probes on the port that serves /health; args: port (name), scheme */}}
{{- define "tern.probes" -}}
readinessProbe:
  httpGet:
    path: /health
    port: {{ .port }}
    scheme: {{ .scheme }}
  initialDelaySeconds: 5
  periodSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /health
    port: {{ .port }}
    scheme: {{ .scheme }}
  initialDelaySeconds: 30
  periodSeconds: 10
  failureThreshold: 6
{{- end -}}

{{- define "tern.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "tern.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{/* PodDisruptionBudget; args: root, name, component, extra (labels map) */}}
{{- define "tern.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "tern.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .maxUnavailable }}
  selector:
    matchLabels:
      {{- include "tern.selectorLabels" . | nindent 6 }}
      {{- with .extra }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
{{- end -}}

{{/* ServiceMonitor scraping /metrics; args: root, name, component, port, scheme */}}
{{- define "tern.serviceMonitor" -}}
{{- $sm := .root.Values.monitoring.serviceMonitor -}}
{{- if $sm.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .name }}
  labels:
    {{- include "tern.labels" . | nindent 4 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "tern.selectorLabels" . | nindent 6 }}
      tern.io/scrape: "true"
  endpoints:
    - port: {{ .port }}
      path: /metrics
      scheme: {{ .scheme | lower }}
      interval: {{ $sm.interval }}
      {{- if eq .scheme "HTTPS" }}
      tlsConfig:
        ca:
          secret:
            name: {{ .root.Values.tls.secretName }}
            key: ca.crt
        insecureSkipVerify: {{ $sm.insecureSkipVerify }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "tern.healthScheme" -}}
{{- if .Values.tls.enabled }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/* The root filesystem is read-only: Netty (epoll, BoringSSL) and Kafka's compression codecs unpack native
libraries into java.io.tmpdir. */}}
{{- define "tern.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "tern.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}
