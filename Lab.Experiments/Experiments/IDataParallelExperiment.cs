namespace Lab.Experiments.Experiments;

/// <summary>
/// An experiment that trains data-parallel under --distributed: it hands <see cref="ExperimentContext.DataParallel"/>
/// to its trainers (and draws per-rank randomness, such as a GAN's noise, from <see cref="ExperimentContext.RankRng"/>).
/// Others refuse --distributed rather than run the same work on every rank.
/// </summary>
public interface IDataParallelExperiment : IExperiment;
