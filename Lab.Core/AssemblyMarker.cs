namespace Lab.Core; internal static class AssemblyMarker { }
