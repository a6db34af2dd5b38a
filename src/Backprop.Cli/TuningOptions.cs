using System.CommandLine;
using System.Globalization;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>train</c>'s options over what practitioners reach for: early stopping (<c>--patience</c>), a
/// learning-rate schedule (<c>--schedule</c>, <c>--warmup</c>), weight decay (<c>--weight-decay</c>) and
/// gradient clipping (<c>--clip-norm</c>). Each is a setting of the library's <see cref="RunSpec"/>.
/// </summary>
internal sealed class TuningOptions
{
    /// <summary>The schedules <c>--schedule</c> takes, as its messages and help list them.</summary>
    public const string ScheduleForms = "constant, step:EVERY[:FACTOR], exponential:FACTOR, cosine[:PERIOD[:MIN_LR]]";

    private readonly Option<int?> patience = new("--patience") { Description = "Early stopping: stop when the validation loss (--validation; else the --test rows' loss) has not improved for N epochs, and put back the weights of the best epoch", HelpName = "N", CustomParser = r => RunOptions.ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<string?> schedule = new("--schedule") { Description = $"Learning-rate schedule, its time counted in epochs with --epochs, else in steps: {ScheduleForms}. step:10:0.5 halves the rate every 10; exponential:0.95 multiplies it by 0.95 each time; cosine falls from --lr to MIN_LR (default 0) over PERIOD (default: the whole run)", HelpName = "SCHEDULE" };
    private readonly Option<int?> warmup = new("--warmup") { Description = "Linear warm-up: the rate rises from a third of --lr to --lr over the first N epochs (with --epochs) or steps, then --schedule takes over", HelpName = "N", CustomParser = r => RunOptions.ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<double?> weightDecay = new("--weight-decay") { Description = "Weight decay λ on the weights (not the biases): L2 (λ·w added to the gradient) for gd and momentum, decoupled for adam (AdamW: w ← w·(1 − lr·λ))", HelpName = "LAMBDA", CustomParser = r => RunOptions.ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<double?> clipNorm = new("--clip-norm") { Description = "Gradient clipping: before each update, scale the gradients down so that their global norm is at most this", HelpName = "NORM", CustomParser = r => RunOptions.ParseNumber<double>(r, NumberStyles.Float, "a number") };

    public IEnumerable<Option> Options => [patience, schedule, warmup, weightDecay, clipNorm];

    /// <summary>The run of <paramref name="spec"/> with the options given.</summary>
    /// <exception cref="BackpropException">A value is out of range, or early stopping has no held-out rows to watch.</exception>
    public RunSpec Apply(ParseResult parsed, RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var decay = parsed.GetValue(weightDecay) ?? 0;
        if (!(decay >= 0 && double.IsFinite(decay)))
        {
            throw new BackpropException($"--weight-decay must be a number ≥ 0; got {Text(decay)}.");
        }
        var clip = parsed.GetValue(clipNorm);
        if (clip is { } c && !(c > 0 && double.IsFinite(c)))
        {
            throw new BackpropException($"--clip-norm must be a positive number; got {Text(c)}.");
        }
        var wait = parsed.GetValue(patience);
        if (wait is < 0)
        {
            throw new BackpropException($"--patience must be a whole number of epochs ≥ 0; got {wait}.");
        }
        var unit = spec.Options.Epochs is null ? ScheduleUnit.Step : ScheduleUnit.Epoch;
        var length = spec.Options.Epochs ?? spec.Options.MaxSteps;
        var rates = Schedule(parsed.GetValue(schedule), parsed.GetValue(warmup), length, unit);
        var tuned = spec with { WeightDecay = decay, MaxGradientNorm = clip, Patience = wait, Schedule = rates, ScheduleUnit = unit };
        tuned.Validate();
        return tuned;
    }

    /// <summary>
    /// Reads <c>--schedule</c> and <c>--warmup</c> into one schedule over a run of <paramref name="length"/>
    /// epochs or steps (<paramref name="unit"/>); null for a constant rate.
    /// </summary>
    /// <exception cref="BackpropException">The text is not one of <see cref="ScheduleForms"/>, or a number in it is out of range.</exception>
    internal static LearningRateSchedule? Schedule(string? text, int? warmupLength, int length, ScheduleUnit unit)
    {
        var units = unit == ScheduleUnit.Epoch ? "epochs" : "steps";
        if (warmupLength is { } w && w <= 0)
        {
            throw new BackpropException($"--warmup must be a positive number of {units}; got {w}.");
        }
        var warm = warmupLength ?? 0;
        if (warmupLength is not null && warm >= length)
        {
            throw new BackpropException($"--warmup {warm} leaves no {units} after it: the run has {length}.");
        }
        var main = text is null ? null : Parse(text, length - warm, units);
        return warmupLength is { } n
            ? main is null ? LearningRateSchedule.LinearWarmup(n) : LearningRateSchedule.LinearWarmup(n).Then(n, main)
            : main;
    }

    private static LearningRateSchedule? Parse(string text, int remaining, string units)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':', StringSplitOptions.TrimEntries);
        var bad = new BackpropException($"--schedule takes {ScheduleForms}; got '{text}'.");
        switch (parts)
        {
            case ["constant" or "none"]:
                return null;
            case ["step", var every, .. var rest] when rest.Length <= 1:
                return LearningRateSchedule.Step(Count(every, "step:EVERY", units), rest.Length == 0 ? 0.1 : Factor(rest[0], "step:EVERY:FACTOR"));
            case ["exponential", var factor]:
                return LearningRateSchedule.Exponential(Factor(factor, "exponential:FACTOR"));
            case ["cosine", .. var rest] when rest.Length <= 2:
                var period = rest.Length > 0 ? Count(rest[0], "cosine:PERIOD", units)
                    : remaining > 0 ? remaining : throw new BackpropException($"--schedule cosine falls over the whole run, which has no {units}; give its length: cosine:PERIOD.");
                var min = rest.Length > 1 ? Number(rest[1]) : 0;
                if (!(min >= 0 && double.IsFinite(min)))
                {
                    throw new BackpropException($"--schedule cosine:PERIOD:MIN_LR takes a smallest rate ≥ 0; got '{rest[1]}'.");
                }
                return LearningRateSchedule.Cosine(period, min);
            default:
                throw bad;
        }
    }

    private static int Count(string text, string form, string units)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new BackpropException($"--schedule {form} takes a positive whole number of {units}; got '{text}'.");

    private static double Factor(string text, string form)
    {
        var value = Number(text);
        return value > 0 && value <= 1
            ? value
            : throw new BackpropException($"--schedule {form} takes a factor above 0 and at most 1, e.g. 0.5; got '{text}'.");
    }

    private static double Number(string text)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : double.NaN;

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}
