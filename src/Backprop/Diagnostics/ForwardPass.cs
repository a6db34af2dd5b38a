using Backprop.Scalar;

namespace Backprop.Diagnostics;

/// <summary>
/// The forward pass of a <see cref="NetworkGraph"/> as a table: one column per named quantity of a
/// data point (Input_i, x1,i, y1,i, …, Predicted_i, Observed_i), one row per data point.
/// </summary>
/// <param name="Columns">The quantities' names with the data point written as <c>i</c>, in the order they are computed.</param>
/// <param name="Rows">Each data point's values (row 0 for data point 1), in column order.</param>
public sealed record ForwardPassTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<double>> Rows)
{
    /// <summary>
    /// Reads the table off <paramref name="graph"/>: its data (the leaves that belong to a data point)
    /// and its units (weighted sums, activations, outputs), so a learner can follow each number from
    /// the input to the prediction.
    /// </summary>
    public static ForwardPassTable Read(NetworkGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var columns = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new double[graph.PointCount][];
        var cells = new List<(int Column, int Row, double Value)>();
        // The outputs' computations first (inputs and units, in the order they are computed), then the
        // rest of the loss's data (the observed values).
        var nodes = graph.Outputs.SelectMany(o => o.TopologicalOrder()).Concat(graph.Loss.TopologicalOrder()).Distinct();
        foreach (var node in nodes)
        {
            if (!(graph.IsUnit(node) || node.Op.Length == 0) || !graph.TryGetTemplate(node, out var template, out var point))
            {
                continue;
            }
            if (!index.TryGetValue(template, out var column))
            {
                column = columns.Count;
                index[template] = column;
                columns.Add(template);
            }
            cells.Add((column, point, node.Data));
        }
        var first = cells.Count == 0 ? 1 : cells.Min(c => c.Row);
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r] = new double[columns.Count];
        }
        foreach (var (column, row, value) in cells)
        {
            rows[row - first][column] = value;
        }
        return new ForwardPassTable(columns, rows);
    }
}
