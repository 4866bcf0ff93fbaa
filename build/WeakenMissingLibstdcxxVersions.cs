// MSBuild inline task (see TorchSharpLibstdcxx.targets): marks the libstdc++ symbol versions
// that a shared library requires but this machine's libstdc++ does not define as weak.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenMissingLibstdcxxVersions : Task
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibstdcxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        var systemLib = LibstdcxxCandidates.FirstOrDefault(File.Exists);
        if (systemLib is null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++.so.6 found; TorchSharp natives left as shipped.");
            return true;
        }
        var systemBytes = File.ReadAllBytes(systemLib);
        foreach (var item in Libraries)
        {
            var path = item.ItemSpec;
            var elf = File.ReadAllBytes(path);
            var weakened = Weaken(elf, name => !ContainsCString(systemBytes, name));
            if (weakened.Count == 0) continue;
            // Write beside and move over, so a hard link into the NuGet cache is never edited.
            var temp = path + ".patching";
            File.WriteAllBytes(temp, elf);
            File.Delete(path);
            File.Move(temp, path);
            Log.LogMessage(MessageImportance.Normal,
                $"{path}: marked {string.Join(", ", weakened)} weak ({systemLib} does not define them).");
        }
        return true;
    }

    /// Sets VER_FLG_WEAK on each libstdc++ version requirement the predicate calls missing.
    static List<string> Weaken(byte[] elf, Func<string, bool> isMissing)
    {
        var weakened = new List<string>();
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
            return weakened; // not a little-endian ELF64 file
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 24);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 40);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 44);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize + 24));

            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                string file = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)need + 4));
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string version = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (file == "libstdc++.so.6" && isMissing(version))
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, (int)aux + 4);
                            weakened.Add(version);
                        }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        return weakened;
    }

    static string ReadCString(byte[] bytes, long start)
    {
        int end = (int)start;
        while (bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, end - (int)start);
    }

    static bool ContainsCString(byte[] haystack, string value)
    {
        var needle = Encoding.ASCII.GetBytes("\0" + value + "\0");
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
