namespace Reproduce.Torch;

// Element-wise arithmetic, unary functions, comparisons and their in-place forms.
public partial class Tensor
{
    private static Op A(string name) => Op.Get(name);

    /// <summary>self + alpha·other.</summary>
    public Tensor Add(Tensor other, double alpha = 1) => A("aten::add.Tensor").Invoke(this, other, alpha);
    /// <summary>self + value.</summary>
    public Tensor Add(double value) => A("aten::add.Scalar").Invoke(this, value);
    /// <summary>self + value (integer scalar: keeps integer dtypes).</summary>
    public Tensor Add(long value) => A("aten::add.Scalar").Invoke(this, value);
    /// <summary>self − alpha·other.</summary>
    public Tensor Sub(Tensor other, double alpha = 1) => A("aten::sub.Tensor").Invoke(this, other, alpha);
    /// <summary>self − value.</summary>
    public Tensor Sub(double value) => A("aten::sub.Scalar").Invoke(this, value);
    /// <summary>self − value.</summary>
    public Tensor Sub(long value) => A("aten::sub.Scalar").Invoke(this, value);
    /// <summary>self · other.</summary>
    public Tensor Mul(Tensor other) => A("aten::mul.Tensor").Invoke(this, other);
    /// <summary>self · value.</summary>
    public Tensor Mul(double value) => A("aten::mul.Scalar").Invoke(this, value);
    /// <summary>self · value.</summary>
    public Tensor Mul(long value) => A("aten::mul.Scalar").Invoke(this, value);
    /// <summary>self / other (true division).</summary>
    public Tensor Div(Tensor other) => A("aten::div.Tensor").Invoke(this, other);
    /// <summary>self / value.</summary>
    public Tensor Div(double value) => A("aten::div.Scalar").Invoke(this, value);
    /// <summary>Division with rounding mode "trunc" or "floor".</summary>
    public Tensor Div(Tensor other, string roundingMode) => A("aten::div.Tensor_mode").Invoke(this, other, roundingMode);
    /// <summary>Python-style remainder.</summary>
    public Tensor Remainder(double value) => A("aten::remainder.Scalar").Invoke(this, value);
    /// <summary>self ^ exponent.</summary>
    public Tensor Pow(double exponent) => A("aten::pow.Tensor_Scalar").Invoke(this, exponent);
    /// <summary>self ^ exponent, element-wise.</summary>
    public Tensor Pow(Tensor exponent) => A("aten::pow.Tensor_Tensor").Invoke(this, exponent);
    /// <summary>Element-wise maximum.</summary>
    public Tensor Maximum(Tensor other) => A("aten::maximum").Invoke(this, other);
    /// <summary>Element-wise minimum.</summary>
    public Tensor Minimum(Tensor other) => A("aten::minimum").Invoke(this, other);
    /// <summary>self + weight·(end − self).</summary>
    public Tensor Lerp(Tensor end, double weight) => A("aten::lerp.Scalar").Invoke(this, end, weight);
    /// <summary>self + value·t1·t2.</summary>
    public Tensor Addcmul(Tensor t1, Tensor t2, double value = 1) => A("aten::addcmul").Invoke(this, t1, t2, value);
    /// <summary>self + value·t1/t2.</summary>
    public Tensor Addcdiv(Tensor t1, Tensor t2, double value = 1) => A("aten::addcdiv").Invoke(this, t1, t2, value);
    /// <summary>Clamps into [min, max]; either bound may be omitted.</summary>
    public Tensor Clamp(double? min = null, double? max = null) => A("aten::clamp").Invoke(this, min, max);
    /// <summary>Clamps element-wise between tensors.</summary>
    public Tensor Clamp(Tensor? min, Tensor? max) => A("aten::clamp.Tensor").Invoke(this, min, max);

    /// <summary>−self.</summary>
    public Tensor Neg() => A("aten::neg").Invoke(this);
    /// <summary>|self|.</summary>
    public Tensor Abs() => A("aten::abs").Invoke(this);
    /// <summary>e^self.</summary>
    public Tensor Exp() => A("aten::exp").Invoke(this);
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => A("aten::log").Invoke(this);
    /// <summary>log(1 + self).</summary>
    public Tensor Log1p() => A("aten::log1p").Invoke(this);
    /// <summary>Base-10 logarithm.</summary>
    public Tensor Log10() => A("aten::log10").Invoke(this);
    /// <summary>Base-2 logarithm.</summary>
    public Tensor Log2() => A("aten::log2").Invoke(this);
    /// <summary>e^self − 1.</summary>
    public Tensor Expm1() => A("aten::expm1").Invoke(this);
    /// <summary>Square root.</summary>
    public Tensor Sqrt() => A("aten::sqrt").Invoke(this);
    /// <summary>1/√self.</summary>
    public Tensor Rsqrt() => A("aten::rsqrt").Invoke(this);
    /// <summary>self².</summary>
    public Tensor Square() => A("aten::square").Invoke(this);
    /// <summary>1/self.</summary>
    public Tensor Reciprocal() => A("aten::reciprocal").Invoke(this);
    /// <summary>Sine.</summary>
    public Tensor Sin() => A("aten::sin").Invoke(this);
    /// <summary>Cosine.</summary>
    public Tensor Cos() => A("aten::cos").Invoke(this);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => A("aten::tanh").Invoke(this);
    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() => A("aten::sigmoid").Invoke(this);
    /// <summary>max(self, 0).</summary>
    public Tensor Relu() => A("aten::relu").Invoke(this);
    /// <summary>Error function.</summary>
    public Tensor Erf() => A("aten::erf").Invoke(this);
    /// <summary>Inverse error function.</summary>
    public Tensor Erfinv() => A("aten::erfinv").Invoke(this);
    /// <summary>Sign (−1, 0, 1).</summary>
    public Tensor Sign() => A("aten::sign").Invoke(this);
    /// <summary>Floor.</summary>
    public Tensor Floor() => A("aten::floor").Invoke(this);
    /// <summary>Ceiling.</summary>
    public Tensor Ceil() => A("aten::ceil").Invoke(this);
    /// <summary>Round half to even.</summary>
    public Tensor Round() => A("aten::round").Invoke(this);
    /// <summary>True where the value is NaN.</summary>
    public Tensor IsNan() => A("aten::isnan").Invoke(this);
    /// <summary>True where the value is finite.</summary>
    public Tensor IsFinite() => A("aten::isfinite").Invoke(this);

    // comparisons (bool results)
    /// <summary>self == other.</summary>
    public Tensor Eq(Tensor other) => A("aten::eq.Tensor").Invoke(this, other);
    /// <summary>self == value.</summary>
    public Tensor Eq(double value) => A("aten::eq.Scalar").Invoke(this, value);
    /// <summary>self != other.</summary>
    public Tensor Ne(Tensor other) => A("aten::ne.Tensor").Invoke(this, other);
    /// <summary>self != value.</summary>
    public Tensor Ne(double value) => A("aten::ne.Scalar").Invoke(this, value);
    /// <summary>self &lt; other.</summary>
    public Tensor Lt(Tensor other) => A("aten::lt.Tensor").Invoke(this, other);
    /// <summary>self &lt; value.</summary>
    public Tensor Lt(double value) => A("aten::lt.Scalar").Invoke(this, value);
    /// <summary>self ≤ other.</summary>
    public Tensor Le(Tensor other) => A("aten::le.Tensor").Invoke(this, other);
    /// <summary>self ≤ value.</summary>
    public Tensor Le(double value) => A("aten::le.Scalar").Invoke(this, value);
    /// <summary>self &gt; other.</summary>
    public Tensor Gt(Tensor other) => A("aten::gt.Tensor").Invoke(this, other);
    /// <summary>self &gt; value.</summary>
    public Tensor Gt(double value) => A("aten::gt.Scalar").Invoke(this, value);
    /// <summary>self ≥ other.</summary>
    public Tensor Ge(Tensor other) => A("aten::ge.Tensor").Invoke(this, other);
    /// <summary>self ≥ value.</summary>
    public Tensor Ge(double value) => A("aten::ge.Scalar").Invoke(this, value);
    /// <summary>Logical and.</summary>
    public Tensor LogicalAnd(Tensor other) => A("aten::logical_and").Invoke(this, other);
    /// <summary>Logical or.</summary>
    public Tensor LogicalOr(Tensor other) => A("aten::logical_or").Invoke(this, other);
    /// <summary>Logical not.</summary>
    public Tensor LogicalNot() => A("aten::logical_not").Invoke(this);
    /// <summary>True when shapes and values are equal.</summary>
    public bool Equal(Tensor other) => (bool)A("aten::equal").Call(this, other)[0]!;
    /// <summary>|self − other| ≤ atol + rtol·|other| everywhere.</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8) => (bool)A("aten::allclose").Call(this, other, rtol, atol)[0]!;

    /// <summary>Picks <paramref name="self"/> where <paramref name="condition"/> holds, else <paramref name="other"/>.</summary>
    public static Tensor Where(Tensor condition, Tensor self, Tensor other) => A("aten::where.self").Invoke(condition, self, other);
    /// <summary>Fills <paramref name="value"/> where <paramref name="mask"/> holds.</summary>
    public Tensor MaskedFill(Tensor mask, double value) => A("aten::masked_fill.Scalar").Invoke(this, mask, value);

    // in place (return this)
    /// <summary>In place: self += alpha·other.</summary>
    public Tensor Add_(Tensor other, double alpha = 1) => A("aten::add_.Tensor").InvokeInPlace(this, other, alpha);
    /// <summary>In place: self += value.</summary>
    public Tensor Add_(double value) => A("aten::add_.Scalar").InvokeInPlace(this, value);
    /// <summary>In place: self += value (integer scalar: keeps integer dtypes).</summary>
    public Tensor Add_(long value) => A("aten::add_.Scalar").InvokeInPlace(this, value);
    /// <summary>In place: self −= alpha·other.</summary>
    public Tensor Sub_(Tensor other, double alpha = 1) => A("aten::sub_.Tensor").InvokeInPlace(this, other, alpha);
    /// <summary>In place: self ·= other.</summary>
    public Tensor Mul_(Tensor other) => A("aten::mul_.Tensor").InvokeInPlace(this, other);
    /// <summary>In place: self ·= value.</summary>
    public Tensor Mul_(double value) => A("aten::mul_.Scalar").InvokeInPlace(this, value);
    /// <summary>In place: self /= other.</summary>
    public Tensor Div_(Tensor other) => A("aten::div_.Tensor").InvokeInPlace(this, other);
    /// <summary>In place: self /= value.</summary>
    public Tensor Div_(double value) => A("aten::div_.Scalar").InvokeInPlace(this, value);
    /// <summary>In place: self += weight·(end − self).</summary>
    public Tensor Lerp_(Tensor end, double weight) => A("aten::lerp_.Scalar").InvokeInPlace(this, end, weight);
    /// <summary>In place: self += value·t1·t2.</summary>
    public Tensor Addcmul_(Tensor t1, Tensor t2, double value = 1) => A("aten::addcmul_").InvokeInPlace(this, t1, t2, value);
    /// <summary>In place: self += value·t1/t2.</summary>
    public Tensor Addcdiv_(Tensor t1, Tensor t2, double value = 1) => A("aten::addcdiv_").InvokeInPlace(this, t1, t2, value);
    /// <summary>In place clamp.</summary>
    public Tensor Clamp_(double? min = null, double? max = null) => A("aten::clamp_").InvokeInPlace(this, min, max);
    /// <summary>In place square root.</summary>
    public Tensor Sqrt_() => A("aten::sqrt_").InvokeInPlace(this);
    /// <summary>In place inverse error function.</summary>
    public Tensor Erfinv_() => A("aten::erfinv_").InvokeInPlace(this);
    /// <summary>In place: copies <paramref name="src"/> (broadcast, converted) into self.</summary>
    public Tensor Copy_(Tensor src) => A("aten::copy_").InvokeInPlace(this, src);
    /// <summary>In place: every element = value.</summary>
    public Tensor Fill_(double value) => A("aten::fill_.Scalar").InvokeInPlace(this, value);
    /// <summary>In place: zeros.</summary>
    public Tensor Zero_() => A("aten::zero_").InvokeInPlace(this);
    /// <summary>In place masked fill.</summary>
    public Tensor MaskedFill_(Tensor mask, double value) => A("aten::masked_fill_.Scalar").InvokeInPlace(this, mask, value);

    // operators
#pragma warning disable CS1591
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator +(Tensor a, double b) => a.Add(b);
    public static Tensor operator +(double a, Tensor b) => b.Add(a);
    public static Tensor operator +(Tensor a, long b) => a.Add(b);
    public static Tensor operator +(long a, Tensor b) => b.Add(a);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator -(Tensor a, double b) => a.Sub(b);
    public static Tensor operator -(Tensor a, long b) => a.Sub(b);
    public static Tensor operator -(double a, Tensor b) => A("aten::rsub.Scalar").Invoke(b, a);
    public static Tensor operator -(long a, Tensor b) => A("aten::rsub.Scalar").Invoke(b, a);
    public static Tensor operator -(Tensor a) => a.Neg();
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator *(Tensor a, double b) => a.Mul(b);
    public static Tensor operator *(double a, Tensor b) => b.Mul(a);
    public static Tensor operator *(Tensor a, long b) => a.Mul(b);
    public static Tensor operator *(long a, Tensor b) => b.Mul(a);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator /(Tensor a, double b) => a.Div(b);
    public static Tensor operator /(double a, Tensor b) => b.Reciprocal().Mul(a);
    public static Tensor operator &(Tensor a, Tensor b) => a.LogicalAnd(b);
    public static Tensor operator |(Tensor a, Tensor b) => a.LogicalOr(b);
    public static Tensor operator !(Tensor a) => a.LogicalNot();
#pragma warning restore CS1591
}
