global using Xunit;
global using Lab.Bench.Throughput;
