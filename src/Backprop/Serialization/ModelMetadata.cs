using System.Globalization;
using System.Reflection;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Training;

namespace Backprop.Serialization;

/// <summary>
/// What a model file records about where a model came from: the library that wrote it, the seed,
/// a fingerprint of the training data, the loss it was trained on and its final value, the date,
/// and the names of its input and output columns. Everything is optional except the version and date.
/// </summary>
public sealed record ModelMetadata
{
    /// <summary>The version of this library, e.g. <c>0.1.0</c>.</summary>
    public static string CurrentLibraryVersion { get; } =
        typeof(ModelMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ModelMetadata).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>The version of Backprop that trained and saved the model.</summary>
    public string LibraryVersion { get; init; } = CurrentLibraryVersion;

    /// <summary>When the model was saved (UTC, to the second).</summary>
    public DateTimeOffset Created { get; init; } = TruncateToSeconds(DateTimeOffset.UtcNow);

    /// <summary>The seed of the random starting values and shuffling, when there was one.</summary>
    public ulong? Seed { get; init; }

    /// <summary>The name of the training data (a file name, or <c>dosage</c>).</summary>
    public string? DataName { get; init; }

    /// <summary>A fingerprint of the training data (<see cref="DataFingerprint"/>): <c>sha256:…</c>.</summary>
    public string? DataFingerprint { get; init; }

    /// <summary>The loss the model was trained on, as the command line spells it (<c>ssr</c>, <c>mse</c>, <c>cross-entropy</c>).</summary>
    public string? Loss { get; init; }

    /// <summary>The loss on all the training data at the end of training.</summary>
    public double? FinalLoss { get; init; }

    /// <summary>Names of the input columns, when known.</summary>
    public IReadOnlyList<string>? InputNames { get; init; }

    /// <summary>Names of the output (target) columns of a regression model, when known.</summary>
    public IReadOnlyList<string>? OutputNames { get; init; }

    /// <summary>Metadata for a model just trained on <paramref name="data"/> with <paramref name="loss"/>.</summary>
    public static ModelMetadata FromTraining(TrainingResult result, Dataset data, Loss loss, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        return new ModelMetadata
        {
            Seed = seed,
            DataName = data.Name,
            DataFingerprint = Serialization.DataFingerprint.Of(data),
            Loss = loss.Name,
            FinalLoss = result.FinalLoss,
            InputNames = data.InputNames,
            OutputNames = loss.IsClassification ? null : data.TargetNames,
        };
    }

    /// <summary>The date as the model file writes it: ISO 8601, UTC, e.g. <c>2026-11-28T07:30:00Z</c>.</summary>
    public string CreatedText => Created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), t.Offset);

    /// <inheritdoc/>
    public bool Equals(ModelMetadata? other)
        => other is not null && LibraryVersion == other.LibraryVersion && Created == other.Created && Seed == other.Seed
           && DataName == other.DataName && DataFingerprint == other.DataFingerprint && Loss == other.Loss
           && Nullable.Equals(FinalLoss, other.FinalLoss)
           && SameNames(InputNames, other.InputNames) && SameNames(OutputNames, other.OutputNames);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(LibraryVersion, Created, Seed, DataFingerprint, FinalLoss);

    private static bool SameNames(IReadOnlyList<string>? a, IReadOnlyList<string>? b)
        => a is null ? b is null : b is not null && a.SequenceEqual(b, StringComparer.Ordinal);
}
