using Lab.Core;
using Lab.Core.Nn;
using Layers = Lab.Core.Nn;

namespace Lab.Models;

/// <summary>
/// The recurrent models the sequence experiment compares on the adding problem: one recurrent layer reading the
/// whole sequence (its last output) and a Dense(1) head, Keras's initialisers. The LSTM's units set the size; the
/// others take the units whose parameter count comes nearest the LSTM's, so that no model wins by being bigger.
/// </summary>
public static class AddingModels
{
    public const string SimpleRnn = "simple_rnn", Lstm = "lstm", Gru = "gru", BiLstm = "bilstm";

    /// <summary>The LSTM units of the sequence experiment's full study (--long), also the throughput workload's.</summary>
    public const int StudyUnits = 32;

    /// <summary>
    /// Adam's learning rate in the sequence experiment (the same for every model) and in the throughput workload: ten times
    /// Keras's default, measured at T = 50 over 512 steps (units 16): with 1e-2 the GRU solved the task and the bidirectional
    /// LSTM reached 0.07, with 3e-3 only the GRU had left the baseline (0.08).
    /// </summary>
    public const float LearningRate = 1e-2f;

    /// <summary>The models, in the order the experiment trains and draws them.</summary>
    public static readonly string[] Names = [SimpleRnn, Lstm, Gru, BiLstm];

    /// <summary>The display name (Keras's layer names).</summary>
    public static string Label(string kind) => kind switch
    {
        SimpleRnn => "SimpleRNN",
        Lstm => "LSTM",
        Gru => "GRU",
        BiLstm => "Bidirectional LSTM",
        _ => throw Unknown(kind),
    };

    /// <summary>recurrent(2 -> units) then Dense(1) (Dense(2·units -> 1) after the bidirectional layer's concatenation).</summary>
    public static Sequential Create(string kind, int units, Generator generator)
    {
        Module recurrent = kind switch
        {
            SimpleRnn => new Layers.SimpleRnn(2, units, generator: generator),
            Lstm => new Layers.Lstm(2, units, generator: generator),
            Gru => new Layers.Gru(2, units, generator: generator),
            BiLstm => new Bidirectional(new Layers.Lstm(2, units, generator: generator)),
            _ => throw Unknown(kind),
        };
        return new Sequential(recurrent, new Linear(kind == BiLstm ? 2 * units : units, 1, generator: generator));
    }

    /// <summary>
    /// The model's parameter count, from Keras's layouts: SimpleRNN H² + 3H (kernel 2H, recurrent H², bias H), LSTM four
    /// times that, GRU (reset_after: two bias rows) 3H² + 12H, the bidirectional LSTM twice the LSTM; then the head.
    /// </summary>
    public static long ParameterCount(string kind, int units)
    {
        long h = units;
        long cell = h * h + 3 * h;
        return kind switch
        {
            SimpleRnn => cell + h + 1,
            Lstm => 4 * cell + h + 1,
            Gru => 3 * cell + 3 * h + h + 1,
            BiLstm => 8 * cell + 2 * h + 1,
            _ => throw Unknown(kind),
        };
    }

    /// <summary>The units for <paramref name="kind"/> whose parameter count is nearest that of an LSTM with <paramref name="lstmUnits"/>.</summary>
    public static int MatchedUnits(string kind, int lstmUnits)
    {
        long target = ParameterCount(Lstm, lstmUnits);
        int best = 1;
        for (int u = 1; u <= 4 * lstmUnits + 4; u++)
            if (Math.Abs(ParameterCount(kind, u) - target) < Math.Abs(ParameterCount(kind, best) - target)) best = u;
        return best;
    }

    private static ArgumentException Unknown(string kind) =>
        new($"AddingModels: unknown model '{kind}'; expected one of {string.Join(", ", Names)}.");
}
