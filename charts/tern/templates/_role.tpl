{{/*
One role as a Deployment with its Service, PodDisruptionBudget and ServiceMonitor. Every role but the broker
serves its API or admin endpoints, /health and /metrics on one HTTP port (<role>.port).
args: root, component (also the image name), prefix (TERN_DISPATCHER), v (the role's values), env (more env, YAML),
      tls (the role has <role>.tls.* keys), replicas (false: left to the scaler), serviceAccount, volumes, mounts (YAML)
*/}}
{{- define "tern.httpRole" -}}
{{- $root := .root -}}
{{- $v := .v -}}
{{- $name := printf "%s-%s" (include "tern.fullname" $root) .component -}}
{{- $ctx := dict "root" $root "component" .component -}}
{{- $scheme := ternary (include "tern.healthScheme" $root) "HTTP" .tls -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "tern.labels" $ctx | nindent 4 }}
    tern.io/scrape: "true"
  {{- with ($v.service).annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ ($v.service).type | default "ClusterIP" }}
  selector:
    {{- include "tern.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.port }}
      targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "tern.labels" $ctx | nindent 4 }}
spec:
  {{- if .replicas }}
  replicas: {{ $v.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "tern.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "tern.labels" $ctx | nindent 8 }}
    spec:
      {{- include "tern.podSecurity" $root | nindent 6 }}
      {{- with .serviceAccount }}
      serviceAccountName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds | default 30 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "tern.image" (dict "root" $root "role" .component) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          {{- include "tern.containerSecurity" $root | nindent 10 }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
          env:
            {{- include "tern.podEnv" $root | nindent 12 }}
            - name: {{ .prefix }}_ID
              value: $(POD_NAME)
            - name: {{ .prefix }}_HOST
              value: 0.0.0.0
            - name: {{ .prefix }}_PORT
              value: {{ $v.port | quote }}
            {{- .env | nindent 12 }}
            {{- if .tls }}
            {{- with (include "tern.tlsEnv" (dict "root" $root "prefix" .prefix) | trim) }}{{ . | nindent 12 }}{{- end }}
            {{- end }}
            {{- with (include "tern.settingsEnv" (dict "prefix" .prefix "settings" $v.settings) | trim) }}{{ . | nindent 12 }}{{- end }}
          {{- include "tern.probes" (dict "port" "http" "scheme" $scheme) | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          {{- $mounts := printf "%s\n%s\n%s" (include "tern.tmpMount" $root) (ternary (include "tern.tlsMount" $root) "" .tls) (.mounts | default "") }}
          volumeMounts:
            {{- regexReplaceAll "\n+" (trim $mounts) "\n" | nindent 12 }}
      {{- $volumes := printf "%s\n%s\n%s" (include "tern.tmpVolume" $root) (ternary (include "tern.tlsVolume" $root) "" .tls) (.volumes | default "") }}
      volumes:
        {{- regexReplaceAll "\n+" (trim $volumes) "\n" | nindent 8 }}
---
{{ include "tern.pdb" (dict "root" $root "component" .component "name" $name "maxUnavailable" $v.pdb.maxUnavailable) }}
{{- include "tern.serviceMonitor" (dict "root" $root "component" .component "name" $name "port" "http" "scheme" $scheme) }}
{{- end -}}
