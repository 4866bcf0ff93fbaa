{{- define "dc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "dc.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "dc.name" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "dc.labels" -}}
app.kubernetes.io/name: {{ include "dc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Env shared by silos and the gateway: clustering through PostgreSQL, telemetry. */}}
{{- define "dc.clusterEnv" -}}
- name: Cluster__Membership
  value: postgres
- name: Cluster__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ .Values.clustering.connectionStringSecret.name }}
      key: {{ .Values.clustering.connectionStringSecret.key }}
- name: Cluster__ClusterId
  value: {{ include "dc.fullname" . }}
- name: Cluster__ServiceId
  value: {{ include "dc.fullname" . }}
- name: Telemetry__PrometheusPort
  value: {{ .Values.telemetry.prometheusPort | quote }}
- name: Telemetry__PrometheusHost
  value: "*"
{{- if .Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.telemetry.otlpEndpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .Values.telemetry.otlpProtocol | quote }}
{{- end }}
{{- end -}}

{{/* The service account pods run as. */}}
{{- define "dc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Pod-spec settings every Deployment takes: (dict "root" $ "pod" <gateway or pool values>). */}}
{{- define "dc.podSettings" -}}
{{- with include "dc.serviceAccountName" .root }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
