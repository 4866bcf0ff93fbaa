# The silo (CPU): one image for every pool; Silo__Stages and the other Silo__* / Cluster__* variables say
# what a pod hosts. `schema` as the argument applies the PostgreSQL clustering schema instead (Helm hook).
# Build from the repository root:  docker build -f docker/silo.Dockerfile -t diffusion-cluster/silo .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a project or pin changes.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/DiffusionCluster.Abstractions/*.csproj src/DiffusionCluster.Abstractions/
COPY src/DiffusionCluster.Diffusion/*.csproj src/DiffusionCluster.Diffusion/
COPY src/DiffusionCluster.Models/*.csproj src/DiffusionCluster.Models/
COPY src/DiffusionCluster.ServiceDefaults/*.csproj src/DiffusionCluster.ServiceDefaults/
COPY src/DiffusionCluster.Grains/*.csproj src/DiffusionCluster.Grains/
COPY src/DiffusionCluster.Silo/*.csproj src/DiffusionCluster.Silo/
ARG TORCH_BACKEND=cpu
RUN dotnet restore src/DiffusionCluster.Silo -r linux-x64 -p:PublishReadyToRun=true -p:TorchBackend=${TORCH_BACKEND}
COPY src/ src/
COPY deploy/postgresql/schema.sql deploy/postgresql/
# ReadyToRun: compiled ahead of time, so a pod starts without JIT-compiling its start-up path (docs/BENCHMARKS.md).
RUN dotnet publish src/DiffusionCluster.Silo -c Release --no-restore -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:TorchBackend=${TORCH_BACKEND} -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app ./
# The bundled cascade, baked in; mount another folder over it (silo.modelVolume in the chart) to serve other weights.
COPY models/shapes-cascade/ models/shapes-cascade/
ENV Silo__ModelFolder=/app/models/shapes-cascade \
    Telemetry__PrometheusPort=9464 \
    Telemetry__PrometheusHost=* \
    Silo__HealthPort=8081
USER $APP_UID
EXPOSE 11111 30000 9464 8081
# Live while the silo's scheduler answers a local call (SiloHealthEndpoint; the runtime image has bash, not curl).
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/${Silo__HealthPort} && printf "GET /health/live HTTP/1.0\r\n\r\n" >&3 && head -1 <&3 | grep -q " 200 "' || exit 1
ENTRYPOINT ["dotnet", "diffusion-cluster-silo.dll"]
