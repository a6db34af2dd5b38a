using Backprop.Autograd;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Diagnostics;

/// <summary>y = x³ with a deliberately wrong derivative rule (2x² instead of 3x²), to prove gradient checks catch it.</summary>
internal sealed class WrongCubeOp(Tensor<double> x) : Op<double>("wrong_cube", x.Shape, x)
{
    public override void Forward()
    {
        for (var i = 0; i < x.Length; i++)
        {
            Output.Data[i] = x[i] * x[i] * x[i];
        }
    }

    // WRONG on purpose: d/dx x³ = 3x², not 2x².
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            for (var i = 0; i < x.Length; i++)
            {
                x.GradData[i] += Output.GradData[i] * 2 * x[i] * x[i];
            }
        }
    }
}

/// <summary>A dense layer followed by <see cref="WrongCubeOp"/>, or by a rule that writes <see cref="NaNBackwardOp"/>.</summary>
internal sealed class InjectedModule(bool nanGradient = false) : Module<double>
{
    private readonly Dense<double> inner = CreateInner();

    private static Dense<double> CreateInner()
    {
        var d = new Dense<double>(1, 2, name: "inner");
        d.Weight.Data[0] = 0.8;
        d.Weight.Data[1] = -0.6;
        d.Bias.Data[0] = 0.1;
        d.Bias.Data[1] = 0.3;
        return d;
    }

    public override Tensor<double> Forward(Tensor<double> input)
    {
        var h = inner.Forward(input);
        var y = nanGradient ? new NaNBackwardOp(h).Run() : new WrongCubeOp(h).Run();
        return y.MatMul(Tensor<double>.FromArray([1.0, 1.0], 2, 1));
    }

    public override IEnumerable<Parameter<double>> Parameters() => inner.Parameters();

    public override string Describe() => "InjectedModule";
}

/// <summary>The identity, whose derivative rule produces NaN: a gradient that goes bad in the backward pass only.</summary>
internal sealed class NaNBackwardOp(Tensor<double> x) : Op<double>("nan_rule", x.Shape, x)
{
    public override void Forward() => x.Data.CopyTo(Output.Data);

    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            for (var i = 0; i < x.Length; i++)
            {
                x.GradData[i] += Output.GradData[i] * double.NaN;
            }
        }
    }
}
