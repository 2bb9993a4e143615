using Lab.Core.Optim;

namespace Lab.Core.Diagnostics;

/// <summary>
/// A phase of a training step (loss, backward, optimizer) timed as one row when <see cref="OpProfiler"/> is on;
/// the layer and node hooks inside it charge their own rows, so the phase keeps only what they leave (loss ops
/// outside layers, the engine's bookkeeping). A struct, so an unprofiled step allocates nothing for it. The
/// recipes' steps (Lab.Models) mark their phases with it, so a benchmark's profile of a recipe reads the same
/// rows as the trained step.
/// </summary>
public readonly struct ProfilePhase : IDisposable
{
    private readonly string _phase, _label, _key;
    private readonly long _start;
    private readonly bool _on;

    public ProfilePhase(string phase, string label)
    {
        (_phase, _label, _on) = (phase, label, OpProfiler.Enabled);
        // Keys are made once per phase and label, so a profiled step allocates nothing for them either.
        _key = _on ? Key(phase, label) : "";
        _start = _on ? OpProfiler.Begin() : 0;
    }

    public void Dispose()
    {
        if (_on) OpProfiler.End(_start, _phase, _key, _label, static l => (string)l, []);
    }

    /// <summary><see cref="Optimizer.ZeroGrad"/> as the "optimizer" phase.</summary>
    public static void ZeroGrad(Optimizer optimizer)
    {
        using var _ = new ProfilePhase("optimizer", "ZeroGrad");
        optimizer.ZeroGrad();
    }

    /// <summary><see cref="Optimizer.Step"/> as the "optimizer" phase, labelled by the optimizer's kind (e.g. "Adam.Step").</summary>
    public static void Update(Optimizer optimizer)
    {
        using var _ = new ProfilePhase("optimizer", OpProfiler.Enabled ? StepLabel(optimizer) : "");
        optimizer.Step();
    }

    /// <summary><see cref="Tensor.Backward"/> as the "backward" phase (the nodes' own rows are charged inside it).</summary>
    public static void Backward(Tensor loss)
    {
        using var _ = new ProfilePhase("backward", "engine (accumulation, topological sort)");
        loss.Backward();
    }

    [ThreadStatic] private static Dictionary<(string, string), string>? t_keys;
    [ThreadStatic] private static Dictionary<Type, string>? t_stepLabels;

    private static string Key(string phase, string label)
    {
        var keys = t_keys ??= [];
        if (!keys.TryGetValue((phase, label), out var key)) keys[(phase, label)] = key = phase + "/" + label;
        return key;
    }

    private static string StepLabel(Optimizer optimizer)
    {
        var labels = t_stepLabels ??= [];
        var type = optimizer.GetType();
        if (!labels.TryGetValue(type, out var label)) labels[type] = label = type.Name + ".Step";
        return label;
    }
}
