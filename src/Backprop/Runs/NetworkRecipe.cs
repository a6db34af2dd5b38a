using System.Numerics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Runs;

/// <summary>
/// How a run builds its network: Dense layers of the given sizes with one hidden activation and a
/// linear output layer (regression outputs, or logits for softmax cross-entropy), or any network
/// written as layer items (<see cref="Net"/>, made by <see cref="Of"/>); its starting values and which
/// of its numbers are trained.
/// </summary>
/// <param name="Layers">Layer sizes from inputs to outputs, e.g. [1, 2, 1]; for a <see cref="Net"/>, the numbers one example holds and the outputs.</param>
/// <param name="Activation">The hidden layers' activation (identity for a <see cref="Net"/>).</param>
public sealed record NetworkRecipe(IReadOnlyList<int> Layers, Activation Activation)
{
    /// <summary>The network as layer items (the command's <c>--net</c>); null for the multilayer perceptron of <see cref="Layers"/>.</summary>
    public NetworkSpec? Net { get; init; }

    /// <summary>One example's shape as the network takes it, without the batch dimension: <c>[inputs]</c>, or <c>[channels, height, width]</c> for images.</summary>
    public Shape InputShape => inputShape ?? new Shape(Layers[0]);

    private Shape? inputShape;

    /// <summary>
    /// The recipe of <paramref name="net"/> for examples of shape <paramref name="inputShape"/> (e.g.
    /// <c>[4]</c> for rows of four numbers, <c>[1, 28, 28]</c> for Fashion-MNIST's images).
    /// </summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given; the message names the item.</exception>
    public static NetworkRecipe Of(NetworkSpec net, Shape inputShape)
    {
        ArgumentNullException.ThrowIfNull(net);
        return new NetworkRecipe([inputShape.Length, net.OutputShape(inputShape).Length], Activation.Identity) { Net = net, inputShape = inputShape };
    }

    /// <summary>The name of the lesson's starting values (<see cref="Lesson.StartingValues"/>), for the lesson's 1-2-1 network only.</summary>
    public const string LessonInit = "lesson";

    /// <summary>Starting values: <c>lesson</c>, or an <see cref="Initializer"/> name (<c>normal</c>, <c>xavier</c>, <c>he</c>). Default: <see cref="DefaultInit"/>.</summary>
    public string? Init { get; init; }

    /// <summary>Seed of the random starting values.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Train only the numbers with these names (the rest stay fixed); null to train all.</summary>
    public IReadOnlyList<string>? Only { get; init; }

    /// <summary>A stage of the lesson series (1, 2 or 3): its starting values and trained numbers; null otherwise.</summary>
    public int? Stage { get; init; }

    /// <summary>True for the lesson's layer sizes 1, 2, 1 (its numbers then have the lesson's names w1 … b3).</summary>
    public bool IsLessonShaped => Net is null && Layers.SequenceEqual(Lesson.LayerSizes);

    /// <summary>
    /// The starting values a network gets when none are named: the lesson's for 1-2-1, He for a ReLU
    /// classifier, Xavier for other classifiers, N(0, 1) weights otherwise.
    /// </summary>
    public static string DefaultInit(IReadOnlyList<int> layers, Loss loss, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(loss);
        return layers.SequenceEqual(Lesson.LayerSizes) && !loss.IsClassification ? LessonInit
            : !loss.IsClassification ? "normal"
            : activation == Activation.Relu ? "he" : "xavier";
    }

    /// <summary>
    /// The starting values this recipe gets for <paramref name="loss"/> when none are named: as
    /// <see cref="DefaultInit"/> for layer sizes; for a <see cref="Net"/>, He when it has a ReLU, else Xavier.
    /// </summary>
    public string DefaultInitFor(Loss loss)
        => Net is { } net ? (net.Items.Any(i => i.Keyword == "relu" || i.Words.Any(w => w.Equals("relu", StringComparison.OrdinalIgnoreCase))) ? "he" : "xavier")
            : DefaultInit(Layers, loss, Activation);

    /// <summary>The starting values used: <see cref="Init"/>, or the lesson's for 1-2-1 and N(0, 1) otherwise.</summary>
    public string InitName => Init ?? (IsLessonShaped ? LessonInit : Net is null ? "normal" : "xavier");

    /// <summary>Whether the starting values are random (drawn with <see cref="Seed"/>) rather than the lesson's.</summary>
    public bool IsSeeded => Stage is null && InitName != LessonInit;

    /// <summary>The starting values in words: "the lesson's", "the lesson's stage 2", "he (seed 1)".</summary>
    public string DescribeInit() => Stage is { } s ? $"the lesson's stage {s}" : InitName == LessonInit ? "the lesson's" : $"{InitName} (seed {Seed})";

    /// <summary>The trained numbers in words: "all", or their names.</summary>
    public string DescribeTrained() => Only is { } only ? string.Join(", ", only) : Stage is { } st ? string.Join(", ", Lesson.Stage(st).Trained) : "all";

    /// <summary>Checks the recipe before anything is built, naming the first problem.</summary>
    /// <exception cref="BackpropException">Layer sizes, starting values, stage or trained names do not fit together.</exception>
    public void Validate()
    {
        if (Net is { } net)
        {
            var output = net.OutputShape(InputShape);
            if (output.Rank != 1)
            {
                throw new BackpropException($"--net ends with examples of shape {output}; end it with rows of numbers (flatten, then dense N).");
            }
            if (Stage is not null)
            {
                throw new BackpropException("--stage is for the lesson's network (--layers 1,2,1), not for --net.");
            }
            if (Init == LessonInit)
            {
                throw new BackpropException("--init lesson gives the lesson's starting values, which fit only --layers 1,2,1, not --net.");
            }
            _ = Initializer.Create(InitName, 0);
            return;
        }
        if (Layers.Count < 2 || Layers.Any(l => l <= 0))
        {
            throw new BackpropException($"A network needs at least an input size and an output size, all positive; got {string.Join(",", Layers)}.");
        }
        if (Stage is { } s)
        {
            if (Only is not null)
            {
                throw new BackpropException("--stage chooses the trained parameters itself; it cannot be combined with --only.");
            }
            if (Init is not null)
            {
                throw new BackpropException("--stage sets the starting values itself; it cannot be combined with --init.");
            }
            if (!IsLessonShaped)
            {
                throw new BackpropException($"--stage is for the lesson's network (layers 1,2,1); the network here has layers {string.Join(",", Layers)}.");
            }
            _ = Lesson.Stage(s);
        }
        if (InitName == LessonInit && !IsLessonShaped)
        {
            throw new BackpropException($"--init lesson gives the lesson's starting values, which fit only layers 1,2,1; the network here has layers {string.Join(",", Layers)}.");
        }
        if (InitName != LessonInit)
        {
            _ = Initializer.Create(InitName, 0);
        }
    }

    /// <summary>Builds the network with its starting values and trained numbers.</summary>
    /// <exception cref="BackpropException">The recipe is invalid, or names a number the network does not have.</exception>
    public Sequential<T> Build<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate();
        var network = Net is { } net ? net.Build<T>(InputShape, Seed) : Sequential<T>.Mlp([.. Layers], Activation, Activation.Identity);
        if (Net is null && Lesson.IsLessonShaped(network))
        {
            Lesson.Name(network);
        }
        if (Stage is { } stage)
        {
            var s = Lesson.Stage(stage);
            Lesson.SetValues(network, s.StartingValues);
            network.TrainOnly(s.Trained);
        }
        else if (InitName == LessonInit)
        {
            Lesson.SetValues(network, Lesson.StartingValues);
        }
        else
        {
            Initializer.Create(InitName, Seed).Initialize(network);
        }
        if (Only is { } names)
        {
            network.TrainOnly(names);
        }
        return network;
    }
}
