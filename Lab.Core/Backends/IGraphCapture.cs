namespace Lab.Core.Backends;

/// <summary>
/// A backend that can record the kernels it launches into a graph and launch that graph again as one unit (CUDA
/// graphs). The traced step (<c>Lab.Core.Tracing</c>) captures each run of device kernels between two host actions.
/// </summary>
public interface IGraphCapture
{
    /// <summary>From now on, kernels this backend launches are recorded into a graph instead of running.</summary>
    void BeginCapture();

    /// <summary>Stops recording and returns the recorded kernels, ready to launch.</summary>
    ICapturedGraph EndCapture();
}

/// <summary>A recorded sequence of device kernels.</summary>
public interface ICapturedGraph : IDisposable
{
    /// <summary>Runs the recorded kernels, in order, on the backend's stream (asynchronously, like any kernel).</summary>
    void Launch();
}
