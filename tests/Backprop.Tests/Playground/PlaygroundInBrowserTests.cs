using System.Globalization;
using System.Text.Json.Nodes;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Scalar;
using Backprop.Tests.Plotting;

namespace Backprop.Tests.Playground;

/// <summary>The playground's page in Debian's headless Chromium, against a real server on a free port; each test in its own tab.</summary>
public sealed class PlaygroundInBrowserTests(PlaygroundFixture fixture) : IClassFixture<PlaygroundFixture>
{
    private async Task<Chromium.Tab> OpenAsync(string hash = "")
    {
        var tab = await fixture.Browser.OpenAsync(fixture.Server.Address + hash, offline: false);
        await tab.WaitUntilAsync("document.body.dataset.ready === 'true'");
        return tab;
    }

    private static async Task<string> TextAsync(Chromium.Tab tab, string id) =>
        (string)(await tab.EvaluateAsync($"document.getElementById('{id}').textContent"))!;

    private static async Task<double> ValueAsync(Chromium.Tab tab, string id) =>
        double.Parse((string)(await tab.EvaluateAsync($"document.getElementById('{id}').dataset.value"))!, CultureInfo.InvariantCulture);

    private static void NoErrors(Chromium.Tab tab) => Assert.True(tab.Errors.Count == 0, string.Join("\n", tab.Errors));

    [ChromiumFact]
    public async Task The_page_loads_with_no_errors_and_asks_nothing_of_any_other_server()
    {
        var tab = await OpenAsync();

        NoErrors(tab);
        var origin = fixture.Server.Address.Authority;
        Assert.Contains(tab.Requests, url => url == $"ws://{origin}/ws");
        Assert.All(tab.Requests, url => Assert.Matches($"^(http|ws)://{System.Text.RegularExpressions.Regex.Escape(origin)}/", url));
        // At the lesson's starting values the page shows the lesson's starting SSR and derivatives.
        Assert.Equal("1.89588", await TextAsync(tab, "ssr"));
        Assert.Equal("7.1423", await TextAsync(tab, "grad-w3"));
        Assert.Contains("× w1 = 2.74", await TextAsync(tab, "edge-w1-label"), StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task Moving_w3_changes_the_SSR_to_the_one_the_library_computes_for_that_w3()
    {
        var tab = await OpenAsync();
        await tab.EvaluateAsync("(() => { const s = document.getElementById('slider-w3'); s.value = '-1.5'; s.dispatchEvent(new Event('input')); })()");
        await tab.WaitUntilAsync("document.getElementById('value-w3').dataset.value === '-1.5'");

        var values = new Dictionary<string, double>(Lesson.StartingValues) { ["w3"] = -1.5 };
        var graph = LessonGraph.Build(values, Datasets.Dosage.Inputs.ToArray(), Datasets.Dosage.Targets.ToArray());
        graph.Ssr.Backward();
        Assert.Equal(graph.Ssr.Data, await ValueAsync(tab, "ssr"));
        Assert.NotEqual(1.89588, Math.Round(graph.Ssr.Data, 5));
        foreach (var name in Lesson.ParameterNames)
        {
            Assert.Equal(graph.Parameters[name].Grad, await ValueAsync(tab, $"grad-{name}"));
        }
        // The URL now holds the new w3: a link reproduces the setup.
        Assert.Contains("w3=-1.5", (string)(await tab.EvaluateAsync("location.hash"))!, StringComparison.Ordinal);
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task Backward_steps_node_by_node_to_the_lessons_first_step_derivatives()
    {
        var tab = await OpenAsync();
        await tab.EvaluateAsync("document.getElementById('backward').click()");
        await tab.WaitUntilAsync("!document.getElementById('backward-panel').hidden");
        var nodes = new List<string>();
        var highlighted = new HashSet<string>();
        for (var k = 0; k < 40 && !(bool)(await tab.EvaluateAsync("document.getElementById('bw-next').disabled"))!; k++)
        {
            nodes.Add(await TextAsync(tab, "bw-node"));
            highlighted.Add((string)(await tab.EvaluateAsync("Array.from(document.querySelectorAll('#network .highlight')).map(e => e.id).join(',')"))!);
            await tab.EvaluateAsync("document.getElementById('bw-next').click()");
        }
        nodes.Add(await TextAsync(tab, "bw-node"));

        // From the loss back: the shared dSSR/dPredicted_i first, the hidden nodes before the weights into them.
        Assert.Equal("SSR", nodes[0]);
        Assert.True(nodes.IndexOf("Predicted_i") < nodes.IndexOf("y1,i"));
        Assert.True(nodes.IndexOf("y1,i") < nodes.IndexOf("x1,i"));
        Assert.True(nodes.IndexOf("x1,i") < nodes.IndexOf("w1"));
        Assert.Equal(Lesson.ParameterNames.Order(), nodes.Intersect(Lesson.ParameterNames).Order());
        Assert.True(highlighted.Count > 5, $"the highlight should move through the network: {string.Join(" | ", highlighted)}");
        string[] lesson = ["0.7609", "0.9673", "0.3323", "0.7322", "7.1423", "1.4873", "3.4595"];
        Assert.Equal(lesson, await Task.WhenAll(Lesson.ParameterNames.Select(n => TextAsync(tab, $"bw-final-{n}"))));
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task One_step_gives_the_lessons_new_values()
    {
        var tab = await OpenAsync();
        await tab.EvaluateAsync("document.getElementById('one-step').click()");
        await tab.WaitUntilAsync("document.getElementById('lesson-steps').textContent === 'step 1'");

        // backprop explain's "new w1 = old − step size = 2.74 − 0.0760944 = 2.66391", and so on.
        string[] lesson = ["2.66391", "-0.0967286", "-1.16323", "-0.0732226", "-0.354231", "0.481272", "-0.345945"];
        Assert.Equal(lesson, await Task.WhenAll(Lesson.ParameterNames.Select(n => TextAsync(tab, $"value-{n}"))));
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task Train_runs_the_lessons_gradient_descent_to_its_stop_at_step_472()
    {
        var tab = await OpenAsync();
        await tab.EvaluateAsync("document.getElementById('lesson-play').click()");
        await tab.WaitUntilAsync("document.getElementById('lesson-steps').textContent.includes('below')", TimeSpan.FromMinutes(3));

        // The README's run: "Stopped after 472 steps: every step size is below 0.001", w1 3.23505 … b3 2.4126.
        Assert.Equal("step 472: every step size is below 0.001", await TextAsync(tab, "lesson-steps"));
        Assert.Equal(["3.23505", "-1.91749", "-3.30691", "0.53009", "-1.45996", "-2.21936", "2.4126"],
            await Task.WhenAll(Lesson.ParameterNames.Select(async n => Math.Round(await ValueAsync(tab, $"value-{n}"), 5).ToString(CultureInfo.InvariantCulture))));
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task Stage_one_trains_b3_alone_from_the_lessons_optimised_values()
    {
        var tab = await OpenAsync();
        await tab.EvaluateAsync("document.getElementById('stage-1').click()");
        await tab.WaitUntilAsync("document.getElementById('value-w1').textContent === '3.34'");
        await tab.EvaluateAsync("document.getElementById('one-step').click()");
        await tab.WaitUntilAsync("document.getElementById('lesson-steps').textContent === 'step 1'");

        Assert.Equal(["3.34", "-1.43", "-3.53", "0.57", "-1.22", "-2.3"], await Task.WhenAll(Lesson.ParameterNames.Take(6).Select(n => TextAsync(tab, $"value-{n}"))));
        Assert.NotEqual("0", await TextAsync(tab, "value-b3"));
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task The_loss_surface_draws_gradient_descents_path_downhill()
    {
        var tab = await OpenAsync();
        await tab.WaitUntilAsync("document.getElementById('surface-path') !== null");
        var path = (string)(await tab.EvaluateAsync("document.getElementById('surface-path').getAttribute('d')"))!;

        Assert.True(path.Split('L').Length > 10, path);
        Assert.Contains("gradient descent", await TextAsync(tab, "surface-note"), StringComparison.Ordinal);
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task Xor_trains_to_at_least_95_percent_accuracy()
    {
        var tab = await OpenAsync("#tab=play&data=xor&samples=200&noise=0&layers=8,8&activation=tanh&optimizer=adam&lr=0.03&batch=10&seed=1");
        await tab.WaitUntilAsync("document.getElementById('p-accuracy').dataset.value !== undefined");
        await tab.EvaluateAsync("document.getElementById('p-play').click()");
        await tab.WaitUntilAsync("Number(document.getElementById('p-accuracy').dataset.value) >= 0.95 || Number(document.getElementById('p-steps').textContent) >= 5000", TimeSpan.FromMinutes(3));
        await tab.EvaluateAsync("document.getElementById('p-play').click()");

        var accuracy = await ValueAsync(tab, "p-accuracy");
        Assert.True(accuracy >= 0.95, $"accuracy {accuracy} after {await TextAsync(tab, "p-steps")} steps");
        Assert.Equal(8 + 8, (double)(await tab.EvaluateAsync("document.querySelectorAll('#p-neurons canvas').length"))!);
        Assert.NotEqual("", (string)(await tab.EvaluateAsync("document.getElementById('p-gradients').innerHTML"))!);
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task An_uploaded_malformed_csv_shows_the_commands_one_line_message()
    {
        using var folder = new TempFolder();
        var path = folder["bad.csv"];
        const string text = "dose,effect\n0.5,1\n1.0,NaN\n";
        File.WriteAllText(path, text);
        var expected = "backprop: " + Assert.Throws<BackpropException>(() => CsvDataset.Load(path)).Message.Replace(path, "bad.csv", StringComparison.Ordinal);
        var tab = await OpenAsync("#tab=play&data=xor");

        var document = await tab.SendAsync("DOM.getDocument");
        var input = await tab.SendAsync("DOM.querySelector", new JsonObject { ["nodeId"] = (int)document["root"]!["nodeId"]!, ["selector"] = "#p-file" });
        await tab.SendAsync("DOM.setFileInputFiles", new JsonObject { ["nodeId"] = (int)input["nodeId"]!, ["files"] = new JsonArray(path) });
        await tab.WaitUntilAsync("document.getElementById('p-error').textContent !== ''");

        Assert.Equal("backprop: bad.csv:3:2: 'NaN' is not a finite number.", expected);
        Assert.Equal(expected, await TextAsync(tab, "p-error"));
        NoErrors(tab);
    }
}
