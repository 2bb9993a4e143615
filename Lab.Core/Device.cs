namespace Lab.Core;

public enum DeviceType { Cpu, Cuda }

/// <summary>Where a tensor's storage lives. Every op runs on the device of its inputs.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static readonly Device Cpu = new(DeviceType.Cpu);
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>Parses "cpu", "cuda" or "cuda:N" (the command-line spelling).</summary>
    public static Device Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        if (s == "cpu") return Cpu;
        if (s == "cuda" || s == "gpu") return Cuda();
        if (s.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(s.AsSpan(5), out var i) && i >= 0) return Cuda(i);
        throw new ArgumentException($"Unknown device '{text}': expected cpu, cuda or cuda:N.", nameof(text));
    }

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
