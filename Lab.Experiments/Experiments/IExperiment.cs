using Lab.Experiments.Cli;

namespace Lab.Experiments.Experiments;

/// <summary>One reproducible exercise: a name for the command line, its options, and the run.</summary>
public interface IExperiment
{
    string Name { get; }
    string Description { get; }
    IReadOnlyList<OptionSpec> Options { get; }
    void Run(ExperimentContext context);
}
