namespace Lab.Bench.Tests;

public class PeerEnvironmentTests
{
    [Theory]
    [InlineData("/usr/share/dotnet/dotnet", "/repo/Lab.Bench/bin/Release/net10.0/Lab.Bench.dll", true)]
    // `dotnet run` and bin/.../Lab.Bench start the apphost, whose first command-line argument still names the .dll:
    // passing it on made the child read it as the command ("throughput: unexpected argument '.../Lab.Bench.dll'").
    [InlineData("/repo/Lab.Bench/bin/Release/net10.0/Lab.Bench", "/repo/Lab.Bench/bin/Release/net10.0/Lab.Bench.dll", false)]
    [InlineData("/repo/publish/Lab.Bench", "/repo/publish/Lab.Bench", false)]
    public void The_rerun_passes_the_program_only_to_the_dotnet_host(string host, string self, bool expected) =>
        Assert.Equal(expected, PeerEnvironment.HostNeedsProgram(host, self));
}
