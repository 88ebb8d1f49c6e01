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
    private int _forgotten;
    private bool _disposed;

    private Scope(Scope? parent) => _parent = parent;

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static Scope? Current => _current;

    /// <summary>Opens a scope on this thread.</summary>
    public static Scope Enter() => _current = new Scope(_current);

    /// <summary>Number of tensors this scope still owns.</summary>
    public int Count => _owned.Count - _forgotten;

    /// <summary>Slots in use, including those of tensors already freed (for tests of compaction).</summary>
    internal int SlotCount => _owned.Count;

    internal void Add(Tensor t)
    {
        // A long-lived scope whose tensors are mostly disposed early would otherwise grow without bound.
        if (_forgotten > 64 && _forgotten > _owned.Count / 2) Compact();
        t.OwnerScope = this;
        t.ScopeSlot = _owned.Count;
        _owned.Add(t);
    }

    internal void Forget(Tensor t)
    {
        if (t.ScopeSlot < _owned.Count && ReferenceEquals(_owned[t.ScopeSlot], t))
        {
            _owned[t.ScopeSlot] = null;
            _forgotten++;
        }
        t.OwnerScope = null;
    }

    private void Compact()
    {
        var n = 0;
        for (var i = 0; i < _owned.Count; i++)
        {
            if (_owned[i] is not { } t) continue;
            t.ScopeSlot = n;
            _owned[n++] = t;
        }
        _owned.RemoveRange(n, _owned.Count - n);
        _forgotten = 0;
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
