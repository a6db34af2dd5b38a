namespace Backprop.Autograd;

/// <summary>
/// Whether operations are recorded for back-propagation on the current thread.
/// </summary>
public static class GradMode
{
    [ThreadStatic]
    private static int noGradDepth;

    /// <summary>True unless a <see cref="NoGrad"/> scope is active on this thread.</summary>
    public static bool IsEnabled => noGradDepth == 0;

    /// <summary>
    /// Stops recording operations until the returned scope is disposed: for evaluation and
    /// prediction, where no gradient is needed. Scopes nest.
    /// </summary>
    /// <example><code>using (GradMode.NoGrad()) { var predicted = model.Forward(x); }</code></example>
    public static NoGradScope NoGrad()
    {
        noGradDepth++;
        return new NoGradScope(active: true);
    }

    internal static void Exit() => noGradDepth--;
}

/// <summary>An active no-gradient scope; dispose it to resume recording.</summary>
public struct NoGradScope : IDisposable, IEquatable<NoGradScope>
{
    // NOTE: only a scope from GradMode.NoGrad() is active; a default or new NoGradScope() must not
    // end an enclosing scope (or turn recording off for good) when disposed.
    private bool active;

    internal NoGradScope(bool active) => this.active = active;

    /// <summary>Ends the scope (once).</summary>
    public void Dispose()
    {
        if (active)
        {
            active = false;
            GradMode.Exit();
        }
    }

    /// <inheritdoc/>
    public readonly bool Equals(NoGradScope other) => active == other.active;

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is NoGradScope other && Equals(other);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => active.GetHashCode();

    /// <summary>Equality (required by analyzers for public structs).</summary>
    public static bool operator ==(NoGradScope left, NoGradScope right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NoGradScope left, NoGradScope right) => !left.Equals(right);
}
