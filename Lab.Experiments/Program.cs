namespace Lab.Experiments; public static class Program { public static int Main(string[] args) { System.Console.WriteLine("GenLab experiments"); return 0; } }
