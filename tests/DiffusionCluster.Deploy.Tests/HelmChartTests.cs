namespace DiffusionCluster.Deploy.Tests;

/// The chart lints and renders with its defaults, the GPU ci values and the values `plan` writes, and the
/// rendered silos carry what a silo needs.
public sealed class HelmChartTests
{
    const string Chart = "helm/diffusion-cluster";

    /// The rendered manifests, one string per document.
    /// valuesFiles: one file, or "-f a -f b" to layer several.
    static List<string> Render(string valuesFiles = "") =>
        Repository.Helm($"template test {Chart} {(valuesFiles == "" || valuesFiles.StartsWith("-f ") ? valuesFiles : $"-f {valuesFiles}")}")
            .Split("\n---", StringSplitOptions.RemoveEmptyEntries).ToList();

    static List<string> Silos(List<string> documents) =>
        documents.Where(d => d.Contains("kind: Deployment") && d.Contains("app.kubernetes.io/component: silo")).ToList();

    [Theory]
    [InlineData("")]
    [InlineData("helm/diffusion-cluster/ci/gpu-values.yaml")]
    [InlineData("docs/bench/values-capacity-cpu.yaml")]
    [InlineData("helm/diffusion-cluster/ci/platform-values.yaml")]
    public void The_chart_lints(string valuesFile)
    {
        var output = Repository.Helm($"lint {Chart} {(valuesFile == "" ? "" : $"-f {valuesFile}")}");

        Assert.Contains("0 chart(s) failed", output);
    }

    [Fact]
    public void Every_silo_gets_its_stages_device_clustering_and_pod_ip()
    {
        var silos = Silos(Render());

        Assert.Equal(5, silos.Count);
        foreach (var silo in silos)
        {
            Assert.Contains("name: Silo__Stages", silo);
            Assert.Contains("name: Silo__Device", silo);
            Assert.Contains("name: Cluster__Membership\n              value: postgres", silo);
            Assert.Contains("name: Cluster__ConnectionString", silo);
            Assert.Contains("name: Cluster__AdvertisedAddress\n              valueFrom:\n                fieldRef:\n                  fieldPath: status.podIP", silo);
            Assert.Contains("terminationGracePeriodSeconds: 120", silo);
            Assert.Contains("name: Silo__HealthPort\n              value: \"8081\"", silo);
            Assert.Contains("livenessProbe:\n            httpGet: { path: /health/live, port: health }", silo);
            Assert.Contains("readinessProbe:\n            httpGet: { path: /health/ready, port: health }", silo);
            Assert.DoesNotContain("nvidia.com/gpu", silo);
        }
        Assert.Contains(silos, s => s.Contains("value: \"sr1024\""));
    }

    [Fact]
    public void Every_container_passes_pod_security_restricted()
    {
        var pods = Render().Where(d => d.Contains("\nkind: Deployment") || d.Contains("\nkind: Job")).ToList();

        Assert.Equal(7, pods.Count); // gateway, five pools, the schema job
        foreach (var pod in pods)
        {
            Assert.Contains("seccompProfile: { type: RuntimeDefault }", pod);
            Assert.Contains("allowPrivilegeEscalation: false", pod);
            Assert.Contains("drop:\n              - ALL", pod);
            Assert.Contains("runAsNonRoot: true", pod);
        }
    }

    [Fact]
    public void A_platform_teams_values_reach_every_pod_and_add_ingress_pod_monitor_and_hpa_policies()
    {
        var documents = Render("helm/diffusion-cluster/ci/platform-values.yaml");
        var deployments = documents.Where(d => d.Contains("\nkind: Deployment")).ToList();

        Assert.Equal(6, deployments.Count);
        foreach (var pod in deployments)
        {
            Assert.Contains("serviceAccountName: test-diffusion-cluster", pod);
            Assert.Contains("imagePullSecrets:\n        - name: registry-credentials", pod);
        }
        var gateway = Assert.Single(deployments, d => d.Contains("name: test-diffusion-cluster-gateway"));
        Assert.Contains("team: imaging", gateway);
        Assert.Contains("topologyKey: topology.kubernetes.io/zone", gateway);
        Assert.Contains("maxUnavailable: 0", gateway);
        Assert.All(Silos(documents), s => Assert.Contains("podAntiAffinity:", s));
        Assert.Single(documents, d => d.Contains("kind: ServiceAccount") && d.Contains("eks.amazonaws.com/role-arn"));
        var ingress = Assert.Single(documents, d => d.Contains("kind: Ingress"));
        Assert.Contains("ingressClassName: nginx", ingress);
        Assert.Contains("host: \"images.example.com\"", ingress);
        Assert.Contains("name: test-diffusion-cluster-gateway", ingress);
        var monitor = Assert.Single(documents, d => d.Contains("kind: PodMonitor"));
        Assert.Contains("release: kube-prometheus-stack", monitor);
        Assert.Contains("port: metrics", monitor);
        Assert.Contains("sourceLabels: [__meta_kubernetes_pod_label_diffusion_cluster_pool]\n          targetLabel: pool", monitor);
        var hpas = documents.Where(d => d.Contains("kind: HorizontalPodAutoscaler")).ToList();
        Assert.Equal(5, hpas.Count);
        Assert.All(hpas, h => Assert.Contains("stabilizationWindowSeconds: 300", h));
    }

    [Fact]
    public void Gpu_pools_ask_for_gpus_use_the_cuda_image_and_autoscale_on_queue_depth()
    {
        var documents = Render("helm/diffusion-cluster/ci/gpu-values.yaml");
        var silos = Silos(documents);

        Assert.Equal(3, silos.Count); // text and prior folded into the decoder64 pool
        Assert.All(silos, s =>
        {
            Assert.Contains("nvidia.com/gpu: 1", s);
            Assert.Contains("silo-cuda:", s);
            Assert.Contains("value: \"cuda:0\"", s);
            Assert.Contains("key: nvidia.com/gpu", s); // tainted GPU nodes take every GPU pool
        });
        Assert.Contains(silos, s => s.Contains("value: \"text,prior,decoder64\"") && s.Contains("name: Silo__Precision\n              value: \"bf16\""));
        var hpa = Assert.Single(documents, d => d.Contains("kind: HorizontalPodAutoscaler"));
        Assert.Contains("name: dc_stage_queue_depth", hpa);
        Assert.Contains("name: OTEL_EXPORTER_OTLP_ENDPOINT", silos[0]);
    }

    [Fact]
    public void The_values_plan_writes_set_replicas_and_batching_per_pool()
    {
        const string values = "docs/bench/values-capacity-cpu.yaml";
        var silos = Silos(Render(values));

        // Each pool's Deployment carries the replicas and batch size the plan wrote for it.
        var plan = File.ReadAllText(Path.Combine(Repository.Root, values));
        foreach (var pool in new[] { "prior", "sr256", "sr1024" })
        {
            var planned = System.Text.RegularExpressions.Regex.Match(plan, $@"\n  {pool}:\n    replicas: (\d+)\n    batching:\n      maxBatchSize: (\d+)\n");
            Assert.True(planned.Success, $"{values} has no {pool} pool");
            var silo = Assert.Single(silos, s => s.Contains($"name: test-diffusion-cluster-{pool}"));
            Assert.Contains($"replicas: {planned.Groups[1].Value}", silo);
            Assert.Contains($"name: Silo__DefaultBatching__MaxBatchSize\n              value: \"{planned.Groups[2].Value}\"", silo);
        }
    }

    [Fact]
    public void A_plan_with_pools_layers_over_the_gpu_example_and_sizes_its_shared_pool()
    {
        var values = Path.Combine(Path.GetTempPath(), $"plan-{Guid.NewGuid():N}.yaml");
        try
        {
            var (code, output) = Repository.Run("dotnet", $"{DiffusionCluster.Tests.Shared.RepositoryRoot.Cli()} plan --target 0.5 --size 1024 " +
                $"--profile {Path.Combine(Repository.Root, "docs", "bench", "stage-profile-cpu.json")} --pools decoder64=text,prior,decoder64 --out {values}");
            Assert.True(code == 0, output);
            Assert.Contains("pool decoder64 (text, prior, decoder64): the stages share each silo", output);
            var replicas = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(values), @"\n  decoder64:\n    stages: text,prior,decoder64\n    replicas: (\d+)\n").Groups[1].Value;
            Assert.NotEqual("", replicas);

            var silos = Silos(Render($"-f helm/diffusion-cluster/ci/gpu-values.yaml -f {values}"));

            Assert.Equal(3, silos.Count); // decoder64 (hosting text and prior), sr256, sr1024: the plan brings no pool back
            var shared = Assert.Single(silos, s => s.Contains("name: test-diffusion-cluster-decoder64"));
            Assert.Contains($"replicas: {replicas}", shared);
            Assert.Contains("name: Silo__Stages\n              value: \"text,prior,decoder64\"", shared);
            Assert.Contains("name: Silo__Batching__prior__MaxBatchSize", shared);
            Assert.Contains("nvidia.com/gpu", shared); // the GPU example's settings stay
        }
        finally
        {
            File.Delete(values);
        }
    }

    [Theory]
    [InlineData("pools.sr256.batchin.maxBatchSize=2", "batchin")]
    [InlineData("pools.sr256.device=gpu", "device")]
    [InlineData("pools.sr256.stages=upscale", "stages")]
    [InlineData("pools.sr256.gpus=1", "pool sr256 asks for 1 GPU(s) but its device is cpu")]
    [InlineData("pools.sr256.precision=fp8", "precision")]
    [InlineData("pools.sr256.precision=bf16", "pool sr256 runs in bf16 on the cpu")]
    public void A_typo_or_a_bad_value_fails_against_the_schema(string setting, string field)
    {
        var (code, output) = Repository.Run(Path.Combine(Repository.Root, "deploy", "tools", "helm.sh"), $"template test {Chart} --set {setting}");

        Assert.NotEqual(0, code);
        Assert.Contains(field, output);
    }
}
