using Backprop.Nn;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Tests.Serialization;

/// <summary>
/// Files written in format version 1 (before layer kinds: Dense and activation layers only), saved by
/// `backprop train --out` of Backprop 0.1.0, still load and predict what that version predicted, and
/// are written back as version 2 with the same numbers.
/// </summary>
public sealed class ModelFileVersion1Tests
{
    // `backprop train --out lesson-v1.bpm`: the lesson's trained network.
    private const string LessonV1 =
        "QlBNT0RFTAABAAAAfgUAAHsKICAiZm9ybWF0IjogImJhY2twcm9wLW1vZGVsIiwKICAiZm9ybWF0VmVyc2lvbiI6IDEsCiAgImVs"
        + "ZW1lbnRUeXBlIjogImZsb2F0NjQiLAogICJpbnB1dHMiOiAxLAogICJvdXRwdXRzIjogMSwKICAibGF5ZXJzIjogWwogICAgewog"
        + "ICAgICAidHlwZSI6ICJkZW5zZSIsCiAgICAgICJpbnB1dHMiOiAxLAogICAgICAib3V0cHV0cyI6IDIsCiAgICAgICJhY3RpdmF0"
        + "aW9uIjogInNvZnRwbHVzIgogICAgfSwKICAgIHsKICAgICAgInR5cGUiOiAiZGVuc2UiLAogICAgICAiaW5wdXRzIjogMiwKICAg"
        + "ICAgIm91dHB1dHMiOiAxLAogICAgICAiYWN0aXZhdGlvbiI6ICJpZGVudGl0eSIKICAgIH0KICBdLAogICJub3JtYWxpemF0aW9u"
        + "IjogZmFsc2UsCiAgImFycmF5cyI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAibGF5ZXIwLndlaWdodCIsCiAgICAgICJ0eXBlIjog"
        + "ImZsb2F0NjQiLAogICAgICAic2hhcGUiOiBbCiAgICAgICAgMSwKICAgICAgICAyCiAgICAgIF0sCiAgICAgICJlbGVtZW50TmFt"
        + "ZXMiOiBbCiAgICAgICAgIncxIiwKICAgICAgICAidzIiCiAgICAgIF0KICAgIH0sCiAgICB7CiAgICAgICJuYW1lIjogImxheWVy"
        + "MC5iaWFzIiwKICAgICAgInR5cGUiOiAiZmxvYXQ2NCIsCiAgICAgICJzaGFwZSI6IFsKICAgICAgICAyCiAgICAgIF0sCiAgICAg"
        + "ICJlbGVtZW50TmFtZXMiOiBbCiAgICAgICAgImIxIiwKICAgICAgICAiYjIiCiAgICAgIF0KICAgIH0sCiAgICB7CiAgICAgICJu"
        + "YW1lIjogImxheWVyMS53ZWlnaHQiLAogICAgICAidHlwZSI6ICJmbG9hdDY0IiwKICAgICAgInNoYXBlIjogWwogICAgICAgIDIs"
        + "CiAgICAgICAgMQogICAgICBdLAogICAgICAiZWxlbWVudE5hbWVzIjogWwogICAgICAgICJ3MyIsCiAgICAgICAgInc0IgogICAg"
        + "ICBdCiAgICB9LAogICAgewogICAgICAibmFtZSI6ICJsYXllcjEuYmlhcyIsCiAgICAgICJ0eXBlIjogImZsb2F0NjQiLAogICAg"
        + "ICAic2hhcGUiOiBbCiAgICAgICAgMQogICAgICBdLAogICAgICAiZWxlbWVudE5hbWVzIjogWwogICAgICAgICJiMyIKICAgICAg"
        + "XQogICAgfQogIF0sCiAgIm1ldGFkYXRhIjogewogICAgImxpYnJhcnlWZXJzaW9uIjogIjAuMS4wIiwKICAgICJjcmVhdGVkIjog"
        + "IjIwMjYtMTItMDdUMTA6NDU6MTRaIiwKICAgICJkYXRhTmFtZSI6ICJkb3NhZ2UiLAogICAgImRhdGFGaW5nZXJwcmludCI6ICJz"
        + "aGEyNTY6MDg3NjFmMWE2NjEwY2Y2OWNiZGQ1ZGI0NTI1ZjMzNmM1OTU5NDZmM2YyZjFhYzk5ZmViZWUzODkxNzE5ZDM0MyIsCiAg"
        + "ICAibG9zcyI6ICJzc3IiLAogICAgImZpbmFsTG9zcyI6IDAuMDAwNjE4NDYwNjA4NDUxNzE3LAogICAgImlucHV0TmFtZXMiOiBb"
        + "CiAgICAgICJEb3NhZ2UiCiAgICBdLAogICAgIm91dHB1dE5hbWVzIjogWwogICAgICAiRWZmaWNhY3kiCiAgICBdCiAgfQp9GxZk"
        + "02HhCUAOQLXmi3QKwNsycCQLrv6/nKuPz3724D+2wufPAVz3v7/s1O5BwQHAPRJNt/9MA0BFo7DFIOV8vo9F6VY5pbEG6P6l1l5Q"
        + "iXy9JKiMwHk5QQ==";

    // `backprop train --data blobs.csv --loss cross-entropy --layers 2,4,3 --activation tanh --standardize --epochs 20 --out classifier-v1.bpm`:
    // a classifier with input normalisation and class names.
    private const string ClassifierV1 =
        "QlBNT0RFTAABAAAAogUAAHsKICAiZm9ybWF0IjogImJhY2twcm9wLW1vZGVsIiwKICAiZm9ybWF0VmVyc2lvbiI6IDEsCiAgImVs"
        + "ZW1lbnRUeXBlIjogImZsb2F0NjQiLAogICJpbnB1dHMiOiAyLAogICJvdXRwdXRzIjogMywKICAibGF5ZXJzIjogWwogICAgewog"
        + "ICAgICAidHlwZSI6ICJkZW5zZSIsCiAgICAgICJpbnB1dHMiOiAyLAogICAgICAib3V0cHV0cyI6IDQsCiAgICAgICJhY3RpdmF0"
        + "aW9uIjogInRhbmgiCiAgICB9LAogICAgewogICAgICAidHlwZSI6ICJkZW5zZSIsCiAgICAgICJpbnB1dHMiOiA0LAogICAgICAi"
        + "b3V0cHV0cyI6IDMsCiAgICAgICJhY3RpdmF0aW9uIjogImlkZW50aXR5IgogICAgfQogIF0sCiAgImNsYXNzTmFtZXMiOiBbCiAg"
        + "ICAiYmx1ZSIsCiAgICAiZ3JlZW4iLAogICAgInJlZCIKICBdLAogICJub3JtYWxpemF0aW9uIjogdHJ1ZSwKICAiYXJyYXlzIjog"
        + "WwogICAgewogICAgICAibmFtZSI6ICJsYXllcjAud2VpZ2h0IiwKICAgICAgInR5cGUiOiAiZmxvYXQ2NCIsCiAgICAgICJzaGFw"
        + "ZSI6IFsKICAgICAgICAyLAogICAgICAgIDQKICAgICAgXQogICAgfSwKICAgIHsKICAgICAgIm5hbWUiOiAibGF5ZXIwLmJpYXMi"
        + "LAogICAgICAidHlwZSI6ICJmbG9hdDY0IiwKICAgICAgInNoYXBlIjogWwogICAgICAgIDQKICAgICAgXQogICAgfSwKICAgIHsK"
        + "ICAgICAgIm5hbWUiOiAibGF5ZXIxLndlaWdodCIsCiAgICAgICJ0eXBlIjogImZsb2F0NjQiLAogICAgICAic2hhcGUiOiBbCiAg"
        + "ICAgICAgNCwKICAgICAgICAzCiAgICAgIF0KICAgIH0sCiAgICB7CiAgICAgICJuYW1lIjogImxheWVyMS5iaWFzIiwKICAgICAg"
        + "InR5cGUiOiAiZmxvYXQ2NCIsCiAgICAgICJzaGFwZSI6IFsKICAgICAgICAzCiAgICAgIF0KICAgIH0sCiAgICB7CiAgICAgICJu"
        + "YW1lIjogIm5vcm1hbGl6YXRpb24ubWVhbiIsCiAgICAgICJ0eXBlIjogImZsb2F0NjQiLAogICAgICAic2hhcGUiOiBbCiAgICAg"
        + "ICAgMgogICAgICBdCiAgICB9LAogICAgewogICAgICAibmFtZSI6ICJub3JtYWxpemF0aW9uLnN0ZERldiIsCiAgICAgICJ0eXBl"
        + "IjogImZsb2F0NjQiLAogICAgICAic2hhcGUiOiBbCiAgICAgICAgMgogICAgICBdCiAgICB9CiAgXSwKICAibWV0YWRhdGEiOiB7"
        + "CiAgICAibGlicmFyeVZlcnNpb24iOiAiMC4xLjAiLAogICAgImNyZWF0ZWQiOiAiMjAyNi0xMi0wN1QxMDo0NToyOFoiLAogICAg"
        + "InNlZWQiOiAiMSIsCiAgICAiZGF0YU5hbWUiOiAiYmxvYnMuY3N2IiwKICAgICJkYXRhRmluZ2VycHJpbnQiOiAic2hhMjU2OmRl"
        + "OWZlZTlkYzJiYTE4ZmUzMWY2NjkwOGNiNTg4MDEwNTQwMGU2Njc2M2UyYTliM2Q5MThiYjQ0ZGFmOTRmMDUiLAogICAgImxvc3Mi"
        + "OiAiY3Jvc3MtZW50cm9weSIsCiAgICAiZmluYWxMb3NzIjogMC42MTgxMTUwNzA4ODM5MTU1LAogICAgImlucHV0TmFtZXMiOiBb"
        + "CiAgICAgICJhIiwKICAgICAgImIiCiAgICBdCiAgfQp9nqYX/QI+2j86SgXOzYLEP21vcJ3XwdQ/IJHjT7aipT9/Vg2vg8XTPzi+"
        + "KQxlPOm/Qzwz+ndX7L+baQfOdhLhvw00F9a6vKG/dwO9qbBynj8HmJKhWaXLPzsRhKfK7Zq/QiOTYb/g5T+orskFUFHCPyf6YHQH"
        + "/uc/8hKddKec8T/2rPGl1xzmP9erblcPq8U/0s89/JSH3T/5u0xC9BvkP3VnARvPq+6/50J7QWrWuT95qPKE6/Lsv11Mqj8tjeu/"
        + "DDLM4zAzdz/pSCVpOieqPyvPnoWgDa2/o/gx5q4l7z8lTak4+/DsP2Y/zKpAzOw/jhVll3qR7D8TAjTBVqYXTdcpU4J3Q/AGSjgk"
        + "jb6i3sXozJmwucJ9qQ==";

    private static Model<double> Load(string base64, string name)
    {
        using var folder = new TempFolder();
        var path = folder.File(name);
        File.WriteAllBytes(path, Convert.FromBase64String(base64));
        Assert.Equal(1, BitConverter.ToInt32(File.ReadAllBytes(path), 8));
        return Model<double>.Load(path);
    }

    [Fact]
    public void The_lessons_version_1_file_loads_with_its_names_and_predicts_what_it_predicted()
    {
        var model = Load(LessonV1, "lesson-v1.bpm");

        Assert.Equal(new Shape(1), model.InputShape);
        Assert.Equal("Dense(1 → 2, SoftPlus) → Dense(2 → 1, Identity)", model.Network.Describe());
        Assert.Equal(["w1", "w2", "b1", "b2", "w3", "w4", "b3"], model.Network.Elements().Select(e => e.Name));
        // `backprop predict --model lesson-v1.bpm --input 0.5 --json` with Backprop 0.1.0.
        Assert.Equal(0.9783731862773448, model.Predict(new Tensor<double>([0.5], new Shape(1, 1)))[0]);
    }

    [Fact]
    public void A_version_1_classifier_keeps_its_normalisation_and_class_names()
    {
        var model = Load(ClassifierV1, "classifier-v1.bpm");

        Assert.Equal(["blue", "green", "red"], model.ClassNames);
        Assert.NotNull(model.Normalization);
        Assert.Equal("Dense(2 → 4, Tanh) → Dense(4 → 3, Identity)", model.Network.Describe());
        // `backprop predict --model classifier-v1.bpm --input 0.5,1.5 --json` with Backprop 0.1.0.
        var p = model.PredictProbabilities(new Tensor<double>([0.5, 1.5], new Shape(1, 2)));
        Assert.Equal([0.13763396315780835, 0.24742473135690854, 0.6149413054852831], p.ToDoubleArray());
    }

    [Fact]
    public void A_version_1_model_saved_again_is_version_2_with_the_same_numbers_and_predictions()
    {
        var model = Load(ClassifierV1, "classifier-v1.bpm");
        using var folder = new TempFolder();
        model.Save(folder.File("v2.bpm"));

        var again = Model<double>.Load(folder.File("v2.bpm"));

        Assert.Equal(2, BitConverter.ToInt32(File.ReadAllBytes(folder.File("v2.bpm")), 8));
        Assert.Equal(model.Network.Elements().Select(e => e.Value), again.Network.Elements().Select(e => e.Value));
        Assert.Equal(model.Normalization!.Mean, again.Normalization!.Mean);
        Assert.Equal(model.Normalization.StdDev, again.Normalization.StdDev);
        var x = new Tensor<double>([0.5, 1.5, -1, 2, 3, 0.25], new Shape(3, 2));
        Assert.Equal(model.PredictProbabilities(x).ToDoubleArray(), again.PredictProbabilities(x).ToDoubleArray());
    }
}
