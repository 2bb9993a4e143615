using Lab.Core.Cuda;

namespace Lab.Core.Tests.Cuda;

/// <summary>A fact that needs a CUDA device: skipped, with the reason, where CUDA is not available.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaRuntime.UnavailableReason is { } reason) Skip = "CUDA not available: " + reason;
    }
}

/// <summary>A theory that needs a CUDA device: skipped, with the reason, where CUDA is not available.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (CudaRuntime.UnavailableReason is { } reason) Skip = "CUDA not available: " + reason;
    }
}

/// <summary>A fact that needs clang-14 on the PATH (regenerating the PTX): skipped, with the reason, without it.</summary>
public sealed class ClangFactAttribute : FactAttribute
{
    public ClangFactAttribute()
    {
        if (PtxBuild.Clang() is null) Skip = "clang-14 not found on PATH: the committed PTX cannot be regenerated here";
    }
}

/// <summary>A fact about the machine without CUDA (the error message): skipped where CUDA works.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (CudaRuntime.IsAvailable) Skip = "CUDA is available here; this checks the error without it";
    }
}
