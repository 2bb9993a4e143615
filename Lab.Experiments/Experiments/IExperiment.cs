using Lab.Experiments.Cli;

namespace Lab.Experiments.Experiments;

/// <summary>One reproducible exercise: a name for the command line, its options, and the run.</summary>
public interface IExperiment
{
    string Name { get; }
    string Description { get; }
    /// <summary>The experiment's own options (the common ones are added to every experiment: <see cref="Cli.CommonOptions"/>).</summary>
    IReadOnlyList<System.CommandLine.Option> Options { get; }
    void Run(ExperimentContext context);
}
