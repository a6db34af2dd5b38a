using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Playground;

/// <summary>
/// One browser tab: its own network, data and step budget. Messages are handled one at a time, so a
/// session never races with itself; nothing in it is shared with another tab.
/// </summary>
public sealed class PlaygroundSession
{
    private readonly PlaygroundOptions options;
    private readonly StepBudget budget;

    internal PlaygroundSession(PlaygroundOptions options, Func<TimeSpan> clock)
    {
        this.options = options;
        Clock = clock;
        budget = new StepBudget(options.StepsPerSecond, clock);
        LastActivity = clock();
        Id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    }

    /// <summary>An unguessable name, which downloads quote.</summary>
    public string Id { get; }

    internal Func<TimeSpan> Clock { get; }

    /// <summary>Held while a message or a download is being handled: one at a time.</summary>
    internal SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>When the tab last sent a message.</summary>
    public TimeSpan LastActivity { get; internal set; }

    /// <summary>The tab's training run, once it has set one up.</summary>
    internal TrainingLab? Lab { get; private set; }

    /// <summary>Handles one message; the reply carries its <c>id</c> back.</summary>
    /// <exception cref="BackpropException">The message is malformed or asks for something out of bounds.</exception>
    internal async Task<JsonObject> HandleAsync(JsonObject message, CancellationToken cancel)
    {
        LastActivity = Clock();
        var type = Messages.Text(message, "type");
        JsonNode? result = type switch
        {
            "hello" => new JsonObject
            {
                ["session"] = Id,
                ["parameters"] = Messages.ToNode(Lesson.ParameterNames),
                ["start"] = Messages.ToNode(Lesson.StartingValues),
                ["stages"] = Messages.ToNode(Enumerable.Range(1, 3).Select(Lesson.Stage)),
                ["limits"] = Messages.ToNode(Limits()),
            },
            "lesson" => Messages.ToNode(LessonLab.Evaluate(Messages.Numbers(message, "values"))),
            "lessonStep" => await LessonStepAsync(message, cancel),
            "backward" => Messages.ToNode(LessonLab.Backward(Messages.Numbers(message, "values"))),
            "surface" => Messages.ToNode(LessonLab.Surface(
                Messages.Numbers(message, "values"), Messages.Text(message, "x"), Messages.Text(message, "y"),
                Messages.Range(message, "xRange"), Messages.Range(message, "yRange"),
                Messages.Integer(message, "side", 2, LessonLab.MaxSurfaceSide, 41),
                Messages.Number(message, "lr", Lesson.LearningRate),
                Messages.Integer(message, "steps", 0, LessonLab.MaxPathSteps, 500))),
            "setup" => Setup(message),
            "data" => Upload(message),
            "train" => await TrainAsync(message, cancel),
            "view" => RequireLab().View(),
            "check" => Messages.ToNode(RequireLab().CheckGradients()),
            _ => throw new BackpropException($"Unknown message type '{type}'."),
        };
        return new JsonObject { ["type"] = type, ["result"] = result };
    }

    private object Limits() => new
    {
        TrainingLab.MaxLayers,
        TrainingLab.MaxUnits,
        TrainingLab.MaxRows,
        options.MaxUploadBytes,
        options.StepsPerSecond,
        TrainingLab.MaxStepsPerMessage,
        IdleSeconds = options.IdleTimeout.TotalSeconds,
    };

    private async Task<JsonNode?> LessonStepAsync(JsonObject message, CancellationToken cancel)
    {
        var steps = Messages.Integer(message, "steps", 1, TrainingLab.MaxStepsPerMessage, 1);
        await WaitForBudgetAsync(steps, cancel);
        var (values, taken, converged) = LessonLab.Train(Messages.Numbers(message, "values"), Messages.Names(message, "trained"),
            Messages.Number(message, "lr", Lesson.LearningRate), steps, message["untilConverged"] is JsonValue v && v.GetValue<bool>() ? Lesson.MinStepSize : null);
        var state = Messages.ToNode(LessonLab.Evaluate(values))!.AsObject();
        state["stepsTaken"] = taken;
        state["converged"] = converged;
        return state;
    }

    private JsonObject Setup(JsonObject message)
    {
        var settings = LabSettings.Read(message, uploaded);
        Lab = new TrainingLab(settings);
        return Lab.View();
    }

    private Backprop.Data.Dataset? uploaded;

    private JsonObject Upload(JsonObject message)
    {
        var name = Path.GetFileName(Messages.Text(message, "name", "upload.csv"));
        var text = Messages.Text(message, "csv");
        if (System.Text.Encoding.UTF8.GetByteCount(text) > options.MaxUploadBytes)
        {
            throw new BackpropException($"{name} is larger than the {options.MaxUploadBytes / 1024} KiB an upload may be.");
        }
        var data = Backprop.Data.CsvDataset.Parse(text, name.Length == 0 ? "upload.csv" : name);
        TrainingLab.CheckData(data);
        uploaded = data;
        return new JsonObject
        {
            ["name"] = data.Name,
            ["rows"] = data.Count,
            ["inputs"] = Messages.ToNode(data.InputNames),
            ["target"] = data.TargetNames[0],
            ["classes"] = Messages.ToNode(data.ClassNames),
        };
    }

    private async Task<JsonNode?> TrainAsync(JsonObject message, CancellationToken cancel)
    {
        var lab = RequireLab();
        var steps = Messages.Integer(message, "steps", 0, TrainingLab.MaxStepsPerMessage, 1);
        await WaitForBudgetAsync(steps, cancel);
        lab.Train(steps);
        return lab.View(withData: false);
    }

    private async Task WaitForBudgetAsync(int steps, CancellationToken cancel)
    {
        var wait = budget.Take(steps);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancel);
        }
    }

    private TrainingLab RequireLab() => Lab ?? throw new BackpropException("Set up a network first.");
}
