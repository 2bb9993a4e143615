global using Xunit;
global using Lab.Core;
