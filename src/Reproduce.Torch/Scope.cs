namespace Reproduce.Torch;

/// <summary>
/// Deterministic tensor lifetime. Every tensor created on a thread while a scope is open belongs to
/// the innermost scope and is freed when the scope is disposed, unless it was moved out with
/// <see cref="MoveOut"/> (to the enclosing scope) or <see cref="Tensor.Detach()"/>-style
/// <see cref="Tensor.DetachFromScope"/> (to the caller). Typical use is one scope per training step:
/// <code>using (Scope.Enter()) { var loss = model.Forward(x).CrossEntropy(y); loss.Backward(); }</code>
/// </summary>
public sealed class Scope : IDisposable
{
    [ThreadStatic] private static Scope? _current;

    private readonly Scope? _parent;
    private readonly List<Tensor?> _owned = [];
    private bool _disposed;

    private Scope(Scope? parent) => _parent = parent;

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static Scope? Current => _current;

    /// <summary>Opens a scope on this thread.</summary>
    public static Scope Enter() => _current = new Scope(_current);

    /// <summary>Number of tensors this scope still owns.</summary>
    public int Count => _owned.Count(t => t is not null);

    internal void Add(Tensor t)
    {
        t.OwnerScope = this;
        t.ScopeSlot = _owned.Count;
        _owned.Add(t);
    }

    internal void Forget(Tensor t)
    {
        if (t.ScopeSlot < _owned.Count && ReferenceEquals(_owned[t.ScopeSlot], t)) _owned[t.ScopeSlot] = null;
        t.OwnerScope = null;
    }

    /// <summary>Moves <paramref name="tensor"/> to the enclosing scope (or to no scope) and returns it.</summary>
    public Tensor MoveOut(Tensor tensor)
    {
        if (!ReferenceEquals(tensor.OwnerScope, this))
            throw new InvalidOperationException("Scope.MoveOut: the tensor does not belong to this scope");
        Forget(tensor);
        _parent?.Add(tensor);
        return tensor;
    }

    /// <summary>Frees every tensor still owned, then closes the scope.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("Scope.Dispose: scopes must be closed innermost first, on the thread that opened them");
        _disposed = true;
        _current = _parent;
        foreach (var t in _owned)
        {
            if (t is null) continue;
            t.OwnerScope = null;
            t.Dispose();
        }
        _owned.Clear();
    }
}
