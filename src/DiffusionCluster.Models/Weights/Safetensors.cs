using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionCluster.Models.Configs;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Weights;

/// The safetensors format (8-byte little-endian header length, a JSON header of
/// {name: {dtype, shape, data_offsets}}, then raw little-endian tensor bytes), so weights move freely
/// between this project and the Python ecosystem.
public static class Safetensors
{
    static readonly Dictionary<ScalarType, string> DtypeNames = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float16] = "F16", [ScalarType.BFloat16] = "BF16",
        [ScalarType.Float64] = "F64", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };

    static readonly Dictionary<string, ScalarType> FloatTypes = new()
    {
        ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16, ["F64"] = ScalarType.Float64,
    };

    /// One tensor's entry in the header.
    public sealed record Entry(string Name, string Dtype, long[] Shape, long Begin, long End);

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var payloads = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in ordered)
        {
            if (!DtypeNames.TryGetValue(tensor.dtype, out var dtype))
                throw new NotSupportedException($"tensor {name} has dtype {tensor.dtype}, which safetensors writing does not support here");
            byte[] bytes;
            // The chain's temporaries are freed here, on this thread, rather than by the finalizer thread while
            // libtorch runs on this one (a suspect in rare native crashes while checkpoints were written).
            using (NewDisposeScope())
                bytes = tensor.detach().cpu().contiguous().bytes.ToArray();
            payloads.Add(bytes);
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padding = (8 - headerBytes.Length % 8) % 8;
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(headerBytes.Length + padding));
        stream.Write(length);
        stream.Write(headerBytes);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        foreach (var payload in payloads) stream.Write(payload);
    }

    /// Reads and checks the header: every entry's offsets must lie inside the file and match its shape and dtype.
    public static (IReadOnlyList<Entry> Entries, long DataStart) ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file is missing");
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8) throw new ModelFormatException(path, "is too short to be a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > 100_000_000 || (long)headerLength > stream.Length - 8)
            throw new ModelFormatException(path, $"declares a {headerLength}-byte header in a {stream.Length}-byte file");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new JsonException("empty header");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ModelFormatException(path, $"has an unreadable safetensors header: {e.Message}");
        }
        long dataStart = 8 + (long)headerLength, dataLength = stream.Length - dataStart;
        var entries = new List<Entry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            try
            {
                var dtype = node!["dtype"]!.GetValue<string>();
                var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                long expectedBytes = shape.Aggregate(1L, (a, d) => a * d) * ElementSize(dtype);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > dataLength || offsets[1] - offsets[0] != expectedBytes)
                    throw new ModelFormatException(path, $"tensor {name}: data_offsets [{string.Join(", ", offsets)}] do not hold a {dtype} tensor of shape [{string.Join(", ", shape)}] within {dataLength} data bytes");
                entries.Add(new Entry(name, dtype, shape, offsets[0], offsets[1]));
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw new ModelFormatException(path, $"tensor {name} has a malformed header entry ({e.Message})");
            }
        }
        return (entries, dataStart);
    }

    /// Copies the file's tensors into the given ones (a module's state dict), requiring the same names,
    /// shapes and dtypes exactly; any difference fails with the file, the tensor, the expected and the found.
    public static void LoadInto(string path, IReadOnlyDictionary<string, Tensor> destination)
    {
        var (entries, dataStart) = ReadHeader(path);
        var byName = entries.ToDictionary(e => e.Name);
        foreach (var (name, tensor) in destination)
        {
            if (!byName.TryGetValue(name, out var entry))
                throw new ModelFormatException(path, $"tensor {name} is missing (expected shape [{string.Join(", ", tensor.shape)}])");
            if (!entry.Shape.SequenceEqual(tensor.shape))
                throw new ModelFormatException(path, $"tensor {name} has shape [{string.Join(", ", entry.Shape)}]; expected [{string.Join(", ", tensor.shape)}]");
            // Floating-point weights convert (a folder may store F16 to halve its size); anything else must match.
            if (entry.Dtype != DtypeNames[tensor.dtype] && !(FloatTypes.ContainsKey(entry.Dtype) && tensor.is_floating_point()))
                throw new ModelFormatException(path, $"tensor {name} has dtype {entry.Dtype}; expected {DtypeNames[tensor.dtype]}");
        }
        var unexpected = entries.Select(e => e.Name).Where(n => !destination.ContainsKey(n)).ToList();
        if (unexpected.Count > 0)
            throw new ModelFormatException(path, $"has tensors the model does not: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}");

        using var stream = File.OpenRead(path);
        using (no_grad())
            foreach (var (name, tensor) in destination)
            {
                var entry = byName[name];
                using var loaded = empty(tensor.shape, FloatTypes.GetValueOrDefault(entry.Dtype, tensor.dtype));
                loaded.bytes = Payload(stream, dataStart, entry);
                tensor.copy_(loaded);
            }
    }

    /// Every tensor in the file, on the CPU (floating-point ones as float32).
    public static Dictionary<string, Tensor> Read(string path)
    {
        var (entries, dataStart) = ReadHeader(path);
        var reverse = DtypeNames.ToDictionary(kv => kv.Value, kv => kv.Key);
        var tensors = new Dictionary<string, Tensor>();
        using var stream = File.OpenRead(path);
        foreach (var entry in entries)
        {
            if (!reverse.TryGetValue(entry.Dtype, out var dtype)) throw new ModelFormatException(path, $"tensor {entry.Name} has unsupported dtype {entry.Dtype}");
            var tensor = empty(entry.Shape, dtype);
            tensor.bytes = Payload(stream, dataStart, entry);
            tensors[entry.Name] = FloatTypes.ContainsKey(entry.Dtype) && dtype != ScalarType.Float32 ? tensor.to(ScalarType.Float32) : tensor;
        }
        return tensors;
    }

    /// One tensor's raw bytes, as the header placed them.
    static byte[] Payload(Stream stream, long dataStart, Entry entry)
    {
        var bytes = new byte[entry.End - entry.Begin];
        stream.Position = dataStart + entry.Begin;
        stream.ReadExactly(bytes);
        return bytes;
    }

    static long ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" => 2,
        "U8" or "BOOL" => 1,
        _ => throw new FormatException($"unsupported dtype {dtype}"),
    };
}
