namespace Lab.Bench; public static class Program { public static int Main(string[] args) { System.Console.WriteLine("GenLab bench"); return 0; } }
