# The GPU silo: the same program built with -p:TorchBackend=cuda (TorchSharp-cuda-linux instead of the
# CPU libtorch), on a CUDA runtime base. Pools with gpus > 0 use it (silo.cudaImage in the chart).
# Build from the repository root:  docker build -f docker/silo-cuda.Dockerfile -t diffusion-cluster/silo-cuda .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/DiffusionCluster.Abstractions/*.csproj src/DiffusionCluster.Abstractions/
COPY src/DiffusionCluster.Diffusion/*.csproj src/DiffusionCluster.Diffusion/
COPY src/DiffusionCluster.Models/*.csproj src/DiffusionCluster.Models/
COPY src/DiffusionCluster.ServiceDefaults/*.csproj src/DiffusionCluster.ServiceDefaults/
COPY src/DiffusionCluster.Grains/*.csproj src/DiffusionCluster.Grains/
COPY src/DiffusionCluster.Silo/*.csproj src/DiffusionCluster.Silo/
RUN dotnet restore src/DiffusionCluster.Silo -r linux-x64 -p:PublishReadyToRun=true -p:TorchBackend=cuda
COPY src/ src/
COPY deploy/postgresql/schema.sql deploy/postgresql/
# ReadyToRun: compiled ahead of time, so a pod starts without JIT-compiling its start-up path (docs/BENCHMARKS.md).
RUN dotnet publish src/DiffusionCluster.Silo -c Release --no-restore -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:TorchBackend=cuda -o /app

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
RUN apt-get update && apt-get install -y --no-install-recommends dotnet-runtime-10.0 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1654 --create-home app
WORKDIR /app
COPY --from=build /app ./
COPY models/shapes-cascade/ models/shapes-cascade/
ENV Silo__ModelFolder=/app/models/shapes-cascade \
    Silo__Device=cuda:0 \
    Telemetry__PrometheusPort=9464 \
    Telemetry__PrometheusHost=* \
    Silo__HealthPort=8081
USER 1654
EXPOSE 11111 9464 8081
# Live while the silo's scheduler answers a local call (SiloHealthEndpoint; the runtime image has bash, not curl).
HEALTHCHECK --interval=15s --timeout=6s --start-period=120s CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/${Silo__HealthPort} && printf "GET /health/live HTTP/1.0\r\n\r\n" >&3 && head -1 <&3 | grep -q " 200 "' || exit 1
ENTRYPOINT ["dotnet", "diffusion-cluster-silo.dll"]
