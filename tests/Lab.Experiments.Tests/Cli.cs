using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>Runs the command line in-process, capturing what it prints.</summary>
public static class Cli
{
    public sealed record Result(int Code, string Output, string Error);

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs and asserts success, showing the error stream when it fails.</summary>
    public static Result Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.Code == 0, $"{string.Join(' ', args)} exited with {r.Code}:\n{r.Error}\n{Tail(r.Output)}");
        return r;
    }

    private static string Tail(string s) => s.Length <= 3000 ? s : s[^3000..];
}

/// <summary>A temporary folder deleted at the end.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "genlab-exp-" + Guid.NewGuid().ToString("N")[..8]);
    public TempFolder() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
