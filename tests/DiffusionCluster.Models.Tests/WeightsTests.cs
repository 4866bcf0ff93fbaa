using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Weights;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

public sealed class WeightsTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("dc-weights-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string SaveDecoder(UNetConfig config)
    {
        var path = Path.Combine(_folder, "decoder64");
        Component.Save(path, config, new UNet(config));
        return path;
    }

    [Fact]
    public void Save_then_load_gives_the_same_outputs()
    {
        var text = Tiny.Seeded(13, () => new TextTransformer(Tiny.Text));
        var original = Tiny.Seeded(13, () => new UNet(Tiny.Decoder));
        using (no_grad()) foreach (var (_, p) in original.named_parameters()) p.add_(randn_like(p) * 0.05);
        var path = Path.Combine(_folder, "decoder64");
        Component.Save(path, Tiny.Decoder, original);
        original.eval();

        var loaded = Component.Load<UNetConfig, UNet>(path, c => new UNet(c));
        using var encoded = Tiny.Encode(text, 1);
        using var x = randn(1, 3, 16, 16);
        using var t = tensor(new long[] { 250 });
        using var image = randn(1, 12);
        using var a = original.forward(x, t, new UNetConditioning(encoded, image));
        using var b = loaded.forward(x, t, new UNetConditioning(encoded, image));

        Assert.Equal(Tiny.Decoder, loaded.Config with { AttentionResolutions = Tiny.Decoder.AttentionResolutions, ChannelMult = Tiny.Decoder.ChannelMult });
        Assert.Equal(0, Tiny.MaxAbsDiff(a, b));
    }

    [Fact]
    public void A_shape_mismatch_names_the_file_the_tensor_and_both_shapes()
    {
        var path = SaveDecoder(Tiny.Decoder);
        ConfigJson.Write(Path.Combine(path, Component.ConfigFile), Tiny.Decoder with { BaseChannels = 16 });

        var error = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains(Path.Combine(path, Component.WeightsFile), error.Message);
        Assert.Matches(@"tensor \S+ has shape \[[\d, ]+\]; expected \[[\d, ]+\]", error.Message);
    }

    [Fact]
    public void A_missing_weights_file_is_named()
    {
        var path = SaveDecoder(Tiny.Decoder);
        File.Delete(Path.Combine(path, Component.WeightsFile));

        var error = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains("model.safetensors: file is missing", error.Message);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var path = SaveDecoder(Tiny.Decoder);
        var full = new UNet(Tiny.Decoder).state_dict();
        var name = full.Keys.First();
        full.Remove(name);
        Safetensors.Save(Path.Combine(path, Component.WeightsFile), full);

        var error = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains($"tensor {name} is missing", error.Message);
    }

    [Fact]
    public void Extra_tensors_are_named()
    {
        var path = SaveDecoder(Tiny.Decoder);
        var state = new UNet(Tiny.Decoder).state_dict();
        state["stray.weight"] = zeros(2);
        Safetensors.Save(Path.Combine(path, Component.WeightsFile), state);

        var error = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains("stray.weight", error.Message);
    }

    [Fact]
    public void Float16_weights_load_into_a_float32_network()
    {
        var original = Tiny.Seeded(14, () => new UNet(Tiny.Decoder));
        var path = Path.Combine(_folder, "decoder64");
        Component.Save(path, Tiny.Decoder, original, ScalarType.Float16);

        var loaded = Component.Load<UNetConfig, UNet>(path, c => new UNet(c));

        foreach (var (name, value) in original.state_dict())
            Assert.True(Tiny.MaxAbsDiff(value, loaded.state_dict()[name]) <= 1e-3 * (value.abs().max().item<float>() + 1e-3), name);
        Assert.True(new FileInfo(Path.Combine(path, Component.WeightsFile)).Length < 0.6 * 4 * original.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void A_non_float_dtype_mismatch_is_named()
    {
        var path = SaveDecoder(Tiny.Decoder);
        var state = new UNet(Tiny.Decoder).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(int32));
        Safetensors.Save(Path.Combine(path, Component.WeightsFile), state);

        var error = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains("dtype I32; expected F32", error.Message);
    }

    [Fact]
    public void A_truncated_weights_file_is_rejected_before_reading_tensors()
    {
        var path = SaveDecoder(Tiny.Decoder);
        var file = Path.Combine(path, Component.WeightsFile);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length - 100)]);

        var error = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains("data_offsets", error.Message);
    }

    [Fact]
    public void A_config_with_an_unknown_key_or_bad_value_is_rejected_with_its_path()
    {
        var path = SaveDecoder(Tiny.Decoder);
        var configFile = Path.Combine(path, Component.ConfigFile);
        File.WriteAllText(configFile, File.ReadAllText(configFile).Replace("\"base_channels\"", "\"base_channel\""));
        var typo = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        ConfigJson.Write(configFile, Tiny.Decoder with { Heads = 3 });
        var badValue = Assert.Throws<ModelFormatException>(() => Component.Load<UNetConfig, UNet>(path, c => new UNet(c)));

        Assert.Contains(configFile, typo.Message);
        Assert.Contains("base_channel", typo.Message);
        Assert.Contains("heads = 3", badValue.Message);
    }

    [Fact]
    public void The_weights_file_is_standard_safetensors()
    {
        var path = Path.Combine(_folder, "t.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = tensor(new[] { 1f, 2f, 3f }) });
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength).Trim();

        Assert.Equal(0, (8 + headerLength) % 8);
        Assert.Equal("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", header);
        Assert.Equal(2f, BitConverter.ToSingle(bytes, (int)(8 + headerLength) + 4));
    }

    [Fact]
    public void A_model_index_naming_a_missing_component_folder_fails()
    {
        new ModelIndex("ShapesCascade", new Dictionary<string, string> { ["decoder64"] = "UNet" }).Write(_folder);

        var error = Assert.Throws<ModelFormatException>(() => ModelIndex.Read(_folder));

        Assert.Contains("decoder64", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void A_model_index_round_trips()
    {
        SaveDecoder(Tiny.Decoder);
        var index = new ModelIndex("ShapesCascade", new Dictionary<string, string> { ["decoder64"] = "UNet" });
        index.Write(_folder);

        var read = ModelIndex.Read(_folder);

        Assert.Equal("ShapesCascade", read.ClassName);
        Assert.Equal("UNet", read.Components["decoder64"]);
    }
}
