using System.Globalization;
using System.Text.Json.Nodes;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Playground;
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

    // The share of the data points whose spot on the decision-boundary picture has their class's colour:
    // blue (P(positive) high) or orange for two classes; for more, the nearest of the classes' pale colours.
    private const string RegionAgreement = """
        (() => {
          const ctx = document.getElementById('p-boundary').getContext('2d');
          const n = play.data.classes.length;
          const pale = Array.from({ length: n }, (_, k) => classColour(k, n, 0.82));
          const dark = Array.from({ length: n }, (_, k) => `rgb(${classColour(k, n, 0.45).join(' ')})`);
          let agree = 0, count = 0;
          for (const c of document.querySelectorAll('#p-points circle')) {
            const at = v => Math.min(359, Math.max(0, Math.round(Number(v))));
            const [r, g, b] = ctx.getImageData(at(c.getAttribute('cx')), at(c.getAttribute('cy')), 1, 1).data;
            const fill = c.getAttribute('fill');
            if (n === 2) {
              agree += (b > r) === (fill === '#2c7bb6') ? 1 : 0;
            } else {
              const distance = q => (q[0] - r) ** 2 + (q[1] - g) ** 2 + (q[2] - b) ** 2;
              const nearest = pale.reduce((best, q, k) => distance(q) < distance(pale[best]) ? k : best, 0);
              agree += dark[nearest] === fill ? 1 : 0;
            }
            count++;
          }
          return agree / count;
        })()
        """;

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
        // The decision boundary is drawn in the colour of the class it gives: blue where P(positive) is high.
        var agree = (double)(await tab.EvaluateAsync(RegionAgreement))!;
        Assert.True(agree >= 0.9, $"only {agree:P0} of the points lie on their own class's colour");
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

    [ChromiumFact]
    public async Task An_uploaded_csv_of_three_classes_trains_and_each_region_has_its_classs_colour()
    {
        using var folder = new TempFolder();
        var path = folder["three.csv"];
        var rows = new List<string> { "a,b,kind" };
        string[] kinds = ["red", "green", "blue"];
        for (var i = 0; i < 90; i++)
        {
            var k = i % 3;
            var (cx, cy) = (3 * Math.Cos(2 * Math.PI * k / 3), 3 * Math.Sin(2 * Math.PI * k / 3));
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{cx + (0.1 * ((i * 7) % 11)) - 0.5},{cy + (0.1 * ((i * 5) % 13)) - 0.6},{kinds[k]}"));
        }
        File.WriteAllLines(path, rows);
        var tab = await OpenAsync("#tab=play&data=xor&layers=6&activation=tanh&optimizer=adam&lr=0.03&batch=0&seed=1");
        await tab.WaitUntilAsync("document.getElementById('p-network').textContent !== ''");

        var document = await tab.SendAsync("DOM.getDocument");
        var input = await tab.SendAsync("DOM.querySelector", new JsonObject { ["nodeId"] = (int)document["root"]!["nodeId"]!, ["selector"] = "#p-file" });
        await tab.SendAsync("DOM.setFileInputFiles", new JsonObject { ["nodeId"] = (int)input["nodeId"]!, ["files"] = new JsonArray(path) });
        await tab.WaitUntilAsync("document.getElementById('p-network').textContent.startsWith('Dense(2 → 6, Tanh) → Dense(6 → 3, Identity)')");
        Assert.Equal("three.csv: 90 rows, inputs a, b, target kind (classes blue, green, red)", await TextAsync(tab, "p-upload"));
        Assert.Equal("csv", (string?)await tab.EvaluateAsync("document.getElementById('p-data').value"));
        for (var k = 0; k < 20 && await ValueAsync(tab, "p-accuracy") < 1; k++)
        {
            await tab.EvaluateAsync("trainSteps(100)");
        }

        Assert.Equal(1, await ValueAsync(tab, "p-accuracy"));
        var agree = (double)(await tab.EvaluateAsync(RegionAgreement))!;
        Assert.True(agree >= 0.9, $"only {agree:P0} of the points lie on their own class's colour");
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task The_controls_set_up_step_reset_pause_and_check_gradients_with_the_engines_numbers()
    {
        var tab = await OpenAsync("#tab=play&data=sine&samples=60&noise=0&layers=6&activation=tanh&loss=mse&optimizer=gd&lr=0.05&batch=0&seed=2");
        await tab.WaitUntilAsync("document.getElementById('p-network').textContent.startsWith('Dense(1 → 6, Tanh)')");
        Assert.Equal(true, (bool?)await tab.EvaluateAsync("document.getElementById('p-curve') !== null")); // 1-D data: the fitted curve

        // Editing the layers, the activation, the loss and the optimizer sets up that network at once.
        await tab.EvaluateAsync("""
            (() => {
              const set = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); };
              set('p-layers', '5,3'); set('p-activation', 'relu'); set('p-loss', 'ssr'); set('p-optimizer', 'momentum');
            })()
            """);
        await tab.WaitUntilAsync("document.getElementById('p-network').textContent === 'Dense(1 → 5, ReLU) → Dense(5 → 3, ReLU) → Dense(3 → 1, Identity) · 32 parameters' && document.getElementById('p-lossname').textContent === 'SSR' && waiting.size === 0");
        Assert.Contains("layers=5%2C3&activation=relu&loss=ssr&optimizer=momentum&lr=0.05&batch=0&seed=2", (string)(await tab.EvaluateAsync("location.hash"))!, StringComparison.Ordinal);
        var initial = await ValueAsync(tab, "p-loss-value");

        // One step, twice: the loss the engine gives for the same run.
        await tab.EvaluateAsync("document.getElementById('p-step').click()");
        await tab.WaitUntilAsync("document.getElementById('p-steps').textContent === '1'");
        await tab.EvaluateAsync("document.getElementById('p-step').click()");
        await tab.WaitUntilAsync("document.getElementById('p-steps').textContent === '2'");
        var lab = new TrainingLab(LabSettings.Read(JsonNode.Parse("""
            {"data": "sine", "samples": 60, "noise": 0, "layers": "5,3", "activation": "relu", "loss": "ssr", "optimizer": "momentum", "lr": 0.05, "batch": 0, "seed": 2}
            """)!.AsObject(), null));
        Assert.Equal(lab.InitialLoss, initial);
        lab.Train(2);
        Assert.Equal((double)lab.View(withData: false)["loss"]!, await ValueAsync(tab, "p-loss-value"));

        // Play, then pause: once the message in flight is answered, no more steps.
        await tab.EvaluateAsync("document.getElementById('p-play').click()");
        await tab.WaitUntilAsync("Number(document.getElementById('p-steps').textContent) >= 42");
        await tab.EvaluateAsync("document.getElementById('p-play').click()");
        await tab.WaitUntilAsync("document.getElementById('p-play').textContent === 'Play' && waiting.size === 0");
        var paused = await TextAsync(tab, "p-steps");
        await tab.EvaluateAsync("ask('hello')");
        Assert.Equal(paused, await TextAsync(tab, "p-steps"));
        Assert.Equal(0, (int.Parse(paused, CultureInfo.InvariantCulture) - 2) % 20); // Play sends 20 steps a message
        Assert.NotEqual("", (string)(await tab.EvaluateAsync("document.getElementById('p-gradients').innerHTML"))!); // the gradient-health strip

        // Save model and Report download what the server makes for this tab: a model file and the report page.
        Assert.Equal("BPMODEL", (string?)await tab.EvaluateAsync("fetch(document.getElementById('p-model').href).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(b => String.fromCharCode(...new Uint8Array(b, 0, 7)))"));
        Assert.Equal("<!DOCTYPE html>", (string?)await tab.EvaluateAsync("fetch(document.getElementById('p-report').href).then(r => r.ok ? r.text() : Promise.reject(r.status)).then(t => t.slice(0, 15))"));

        // Reset: back to step 0 and the same starting loss (the seed gives the same network).
        await tab.EvaluateAsync("document.getElementById('p-reset').click()");
        await tab.WaitUntilAsync("document.getElementById('p-steps').textContent === '0'");
        Assert.Equal(initial, await ValueAsync(tab, "p-loss-value"));

        // Check gradients: backpropagation against finite differences, in the page.
        await tab.EvaluateAsync("document.getElementById('p-check').click()");
        await tab.WaitUntilAsync("document.getElementById('p-check-summary') !== null");
        Assert.StartsWith("32 numbers checked on 32 rows; largest relative error ", await TextAsync(tab, "p-check-summary"), StringComparison.Ordinal);
        Assert.EndsWith("(backpropagation agrees)", await TextAsync(tab, "p-check-summary"), StringComparison.Ordinal);
        NoErrors(tab);
    }

    [ChromiumFact]
    public async Task Stage_two_trains_w3_w4_and_b3_and_the_link_reproduces_the_lesson_and_its_surface()
    {
        var tab = await OpenAsync();
        await tab.EvaluateAsync("document.getElementById('stage-2').click()");
        var stage = Lesson.Stage(2);
        await tab.WaitUntilAsync($"document.getElementById('value-w1').dataset.value === '{stage.StartingValues["w1"].ToString("R", CultureInfo.InvariantCulture)}'");
        Assert.Equal(["w3", "w4", "b3"], ((string)(await tab.EvaluateAsync("['w1','b1','w2','b2','w3','w4','b3'].filter(n => document.getElementById('train-' + n).checked).join(',')"))!).Split(','));
        await tab.EvaluateAsync("document.getElementById('one-step').click()");
        await tab.WaitUntilAsync("document.getElementById('lesson-steps').textContent === 'step 1'");
        var expected = LessonLab.Step(stage.StartingValues, stage.Trained);
        foreach (var name in Lesson.ParameterNames)
        {
            Assert.Equal(expected[name], await ValueAsync(tab, $"value-{name}"));
        }

        // The loss surface over two other parameters.
        await tab.EvaluateAsync("(() => { const x = document.getElementById('surface-x'); x.value = 'b3'; x.dispatchEvent(new Event('change')); })()");
        await tab.WaitUntilAsync("document.getElementById('surface-note').textContent.startsWith('SSR over b3 and w4')");

        // The URL holds it all: a new tab opened on it shows the same values, trained parameters and surface.
        var link = (string)(await tab.EvaluateAsync("location.href"))!;
        var again = await fixture.Browser.OpenAsync(link, offline: false);
        await again.WaitUntilAsync("document.body.dataset.ready === 'true'");
        foreach (var name in Lesson.ParameterNames)
        {
            Assert.Equal(expected[name], await ValueAsync(again, $"value-{name}"));
        }
        Assert.Equal("w3,w4,b3", (string?)await again.EvaluateAsync("['w1','b1','w2','b2','w3','w4','b3'].filter(n => document.getElementById('train-' + n).checked).join(',')"));
        Assert.StartsWith("SSR over b3 and w4", await TextAsync(again, "surface-note"), StringComparison.Ordinal);
        NoErrors(tab);
        NoErrors(again);
    }
}
