namespace Lab.Core.Nn;

/// <summary>Keras's activation argument of Dense and Conv layers.</summary>
public enum Activation { None, Relu, LeakyRelu, Sigmoid, Tanh, Softplus, Softmax }

public static class Activations
{
    public static Tensor Apply(Activation a, Tensor x, float leakySlope = 0.3f) => a switch
    {
        Activation.None => x,
        Activation.Relu => x.Relu(),
        Activation.LeakyRelu => x.LeakyRelu(leakySlope),
        Activation.Sigmoid => x.Sigmoid(),
        Activation.Tanh => x.Tanh(),
        Activation.Softplus => x.Softplus(),
        Activation.Softmax => x.Softmax(-1),   // Keras: over the last axis (a Dense on [B, T, D] normalises each step)
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, "Unknown activation."),
    };

    public static string Name(Activation a) => a == Activation.None ? "" : ", " + a.ToString().ToLowerInvariant();
}
