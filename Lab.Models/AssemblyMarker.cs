namespace Lab.Models; internal static class AssemblyMarker { }
