# The gateway: HTTP API and web page, an Orleans client of the silos (Gateway__Cluster = the PostgreSQL
# connection string). Build from the repository root:  docker build -f docker/gateway.Dockerfile -t diffusion-cluster/gateway .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
# The gateway references only Abstractions and ServiceDefaults: no TorchSharp, no libtorch in this image.
COPY src/DiffusionCluster.Abstractions/*.csproj src/DiffusionCluster.Abstractions/
COPY src/DiffusionCluster.ServiceDefaults/*.csproj src/DiffusionCluster.ServiceDefaults/
COPY src/DiffusionCluster.Gateway/*.csproj src/DiffusionCluster.Gateway/
RUN dotnet restore src/DiffusionCluster.Gateway -r linux-x64 -p:PublishReadyToRun=true
COPY src/DiffusionCluster.Abstractions/ src/DiffusionCluster.Abstractions/
COPY src/DiffusionCluster.ServiceDefaults/ src/DiffusionCluster.ServiceDefaults/
COPY src/DiffusionCluster.Gateway/ src/DiffusionCluster.Gateway/
# ReadyToRun: compiled ahead of time, so a pod starts without JIT-compiling its start-up path (docs/BENCHMARKS.md).
RUN dotnet publish src/DiffusionCluster.Gateway -c Release --no-restore -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    Telemetry__PrometheusPort=9464 \
    Telemetry__PrometheusHost=*
USER $APP_UID
EXPOSE 8080 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' || exit 1
ENTRYPOINT ["dotnet", "diffusion-cluster-gateway.dll"]
