using System.Text;

namespace Lab.Core.Nn;

/// <summary>A box of a model's picture: one layer (a shared layer once) with its input and output shapes.</summary>
public sealed record GraphLayer(string Name, string Type, string InputShape, string OutputShape);

/// <summary>
/// What Keras's plot_model draws: a layer per box, an edge from each layer to each layer that reads its output. The
/// core only describes the graph (and writes Graphviz's dot language); programs draw it.
/// </summary>
public sealed class ModelGraph
{
    private ModelGraph(string name, IReadOnlyList<GraphLayer> layers, IReadOnlyList<(int From, int To)> edges)
    {
        Name = name;
        Layers = layers;
        Edges = edges;
    }

    public string Name { get; }
    public IReadOnlyList<GraphLayer> Layers { get; }

    /// <summary>Edges as indices into <see cref="Layers"/>, each once, in the order the model runs.</summary>
    public IReadOnlyList<(int From, int To)> Edges { get; }

    public static ModelGraph Of(Model model)
    {
        var index = new Dictionary<object, int>(ReferenceEqualityComparer.Instance);
        var layers = new List<GraphLayer>();
        var edges = new List<(int, int)>();
        object Key(LayerNode n) => n.Layer ?? (object)n;
        foreach (var node in model.Nodes)
        {
            var key = Key(node);
            if (index.ContainsKey(key)) continue;
            index[key] = layers.Count;
            var calls = model.Nodes.Where(n => ReferenceEquals(Key(n), key)).ToList();
            string input = node.IsInput ? Shapes(node.Outputs) : Joined(calls.Select(n => Shapes(n.Inputs)));
            layers.Add(new(node.LayerName, node.LayerType, input, Joined(calls.Select(n => Shapes(n.Outputs)))));
        }
        foreach (var node in model.Nodes)
            foreach (var t in node.Inputs)
            {
                var edge = (index[Key(t.Node)], index[Key(node)]);
                if (!edges.Contains(edge)) edges.Add(edge);
            }
        return new ModelGraph(model.Name!, layers, edges);
    }

    private static string Shapes(IReadOnlyList<SymbolicTensor> ts) =>
        ts.Count == 1 ? SymbolicShape.Format(ts[0].Shape) : "[" + string.Join(", ", ts.Select(t => SymbolicShape.Format(t.Shape))) + "]";

    /// <summary>A shared layer's calls, once each where they differ.</summary>
    private static string Joined(IEnumerable<string> perCall) => string.Join(" | ", perCall.Distinct());

    /// <summary>The graph in Graphviz's dot language, boxes as Keras draws them: "name: Type" over input and output shapes.</summary>
    public string ToDot()
    {
        var sb = new StringBuilder();
        sb.Append("digraph \"").Append(Escape(Name)).Append("\" {\n");
        sb.Append("  rankdir=TB;\n  node [shape=record, fontname=\"DejaVu Sans\", fontsize=11];\n");
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            sb.Append($"  n{i} [label=\"{{{Escape(l.Name)}: {Escape(l.Type)}|{{input:|output:}}|{{{Escape(l.InputShape)}|{Escape(l.OutputShape)}}}}}\"];\n");
        }
        foreach (var (from, to) in Edges) sb.Append($"  n{from} -> n{to};\n");
        return sb.Append("}\n").ToString();
    }

    /// <summary>Characters that structure a record label or end a string are escaped.</summary>
    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is '{' or '}' or '|' or '<' or '>' or '"' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
