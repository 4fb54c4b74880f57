import Foundation
import PixCore

/// Everything the job page shows.
struct JobPageModel: Sendable {
    var caller: Caller
    var entry: DashboardJob
    /// A page of accepted images, newest first.
    var images: [ImageRecord]
    /// The id to pass as `before` for the next (older) page, when there is one.
    var olderThan: Int64?
    /// Per reject category: how many, and a few of the newest examples.
    var rejects: [(category: ErrorCategory, count: Int, examples: [ErrorLogEntry])]
    /// Workers busy with one of this job's chunks.
    var workers: [(worker: WorkerRecord, chunk: CrawlChunk)]
    /// Accepted images over time: seconds since the job started, and the count by then.
    var samples: [(seconds: Int, valid: Int)]
    var exportsAvailable: Bool
    var now: Date
    var exportForm = ExportForm()
    var exportError: APIError?
}

/// The job page: live progress with an inline SVG chart (no script from another host), the workers on the job, a
/// thumbnail grid of the accepted images, examples of every reject category, and the export form.
enum JobPage {
    /// Images per gallery page.
    static let pageSize = 48
    /// Two images whose difference hashes differ in at most this many bits are shown together as near duplicates.
    static let nearDistance = 6

    static func render(_ model: JobPageModel) -> String {
        let job = model.entry.job
        var body = """
            <header><h1><a href="/" style="color:inherit">PixCrawler</a></h1><div><span id="who">\(HTML.escape(model.caller.profile.email))</span>
            <form method="post" action="/logout"><button type="submit">Sign out</button></form></div></header><main>
            <section>\(DashboardPage.renderJob(
                model.entry, exportsAvailable: model.exportsAvailable, now: model.now, exportForm: model.exportForm,
                exportError: model.exportError))</section>
            """
        let samples = model.samples.map { "\($0.seconds):\($0.valid)" }.joined(separator: ",")
        let started = job.startedAt.map { "\(Int($0.timeIntervalSince1970))" } ?? ""
        body += """
            <section id="activity"><h2>Progress over time</h2>
            <svg class="chart" id="chart" viewBox="0 0 600 160" role="img" aria-label="accepted images and images per second over time"
            data-job="\(job.id)" data-max="\(job.maxImages)" data-started="\(started)" data-samples="\(samples)"></svg>
            <p class="muted"><span class="legend-progress">■ progress (% of \(job.maxImages))</span> ·
            <span class="legend-rate">■ images/s</span> · <span id="rate">—</span></p>
            """
        if model.workers.isEmpty {
            body += "<p class=\"muted\" id=\"job-workers\">No worker is on this job right now.</p>"
        } else {
            body +=
                "<table id=\"job-workers\"><tr><th>Worker</th><th>Chunk</th><th>Done in chunk</th><th>Rate</th><th>Heartbeat</th></tr>"
            for (worker, chunk) in model.workers {
                body += """
                    <tr><td>\(HTML.escape(worker.id)) <span class="muted">\(HTML.escape(worker.hostname))</span></td>
                    <td>#\(chunk.id) \(HTML.escape(chunk.keyword)) · \(HTML.escape(chunk.source)) \(chunk.rangeStart)–\(chunk.rangeEnd)</td>
                    <td>\(chunk.checkpoint.candidatesDone) of \(chunk.rangeEnd - chunk.rangeStart) candidates</td>
                    <td>\(rate(of: chunk, in: model.images, now: model.now))</td>
                    <td>\(DashboardPage.ago(worker.heartbeatAt, now: model.now))</td></tr>
                    """
            }
            body += "</table>"
        }
        body += "</section>" + gallery(model) + rejects(model) + "</main>"
        return DashboardPage.document(
            title: "\(job.name) — PixCrawler", refresh: true, body: body, script: DashboardPage.script + chartScript)
    }

    /// A worker's accepted images per second over the last minute, from the newest images of the page that came
    /// from its chunk (the page holds the newest ``pageSize``, so at high rates the window shrinks to what it covers).
    static func rate(of chunk: CrawlChunk, in images: [ImageRecord], now: Date) -> String {
        let recent = images.filter { $0.chunkID == chunk.id && now.timeIntervalSince($0.createdAt) <= 60 }
        guard let oldest = recent.map(\.createdAt).min() else { return "0 images/s" }
        let window = images.count == pageSize ? max(1, now.timeIntervalSince(oldest)) : 60
        return String(format: "%.1f images/s", Double(recent.count) / window)
    }

    static func gallery(_ model: JobPageModel) -> String {
        let job = model.entry.job
        var html = "<section id=\"images\"><h2>Accepted images <span class=\"muted\">· newest first</span></h2>"
        if model.images.isEmpty { html += "<p class=\"muted\">No accepted images yet.</p>" }
        html += "<div class=\"gallery\">"
        for (leader, members) in clusters(model.images) {
            html += figure(leader, nearOf: nil)
            for member in members { html += figure(member, nearOf: leader.id) }
        }
        html += "</div>"
        if let older = model.olderThan {
            html += "<p><a id=\"older\" href=\"/jobs/\(job.id)?before=\(older)#images\">Older images →</a></p>"
        }
        return html + "</section>"
    }

    static func figure(_ image: ImageRecord, nearOf leader: Int64?) -> String {
        let size =
            image.fileSize >= 1_048_576
            ? String(format: "%.1f MB", Double(image.fileSize) / 1_048_576) : "\(max(1, image.fileSize / 1024)) KB"
        let license = [image.license, image.licenseVersion].compactMap { $0 }.joined(separator: " ")
        let details =
            "\(image.width)×\(image.height) · \(image.format.rawValue) · \(size)"
            + (license.isEmpty ? "" : " · \(license)") + (image.creator.map { " · \($0)" } ?? "")
        let source = image.landingURL ?? image.originalURL
        return """
            <figure class="thumb\(leader == nil ? "" : " near")" id="image-\(image.id)"\(leader.map { " data-near=\"\($0)\"" } ?? "")>\
            <a href="/v1/images/\(image.id)/file" title="\(HTML.escape(details))">\
            <img src="/v1/images/\(image.id)/thumbnail" alt="\(HTML.escape(image.title ?? image.keyword))" loading="lazy"></a>\
            <figcaption>\(HTML.escape(details))\(leader.map { " · near duplicate of #\($0)" } ?? "")<br>\
            <a href="\(HTML.escape(source))" rel="noreferrer noopener" target="_blank">source</a> · \(HTML.escape(image.keyword))\
            </figcaption></figure>
            """
    }

    /// Groups near duplicates: each image joins the first earlier image within ``nearDistance`` bits, if any.
    static func clusters(_ images: [ImageRecord]) -> [(ImageRecord, [ImageRecord])] {
        var groups: [(ImageRecord, [ImageRecord])] = []
        for image in images {
            if let hash = image.perceptualHash,
                let index = groups.firstIndex(where: { group in
                    group.0.perceptualHash.map { ($0 ^ hash).nonzeroBitCount <= nearDistance } ?? false
                })
            {
                groups[index].1.append(image)
            } else {
                groups.append((image, []))
            }
        }
        return groups
    }

    static func rejects(_ model: JobPageModel) -> String {
        var html = "<section id=\"rejects\"><h2>Rejected candidates</h2>"
        if model.rejects.isEmpty { html += "<p class=\"muted\">None.</p>" }
        for reject in model.rejects {
            html += """
                <details id="rejects-\(reject.category.rawValue)"><summary>\(reject.category.rawValue) \
                <span class="muted">· \(reject.count)</span></summary><ul>
                """
            for example in reject.examples {
                html +=
                    "<li><code>\(HTML.escape(example.url ?? "—"))</code><br><span class=\"muted\">\(HTML.escape(example.message))</span></li>"
            }
            html += "</ul></details>"
        }
        return html + "</section>"
    }

    /// Draws the chart from the server's samples and adds one per poll of `/v1/jobs/{id}` (same origin): progress
    /// as a share of the target and images/s between samples, as SVG polylines.
    static let chartScript = """
        (function(){
          var svg=document.getElementById('chart');if(!svg)return;
          var max=+svg.getAttribute('data-max')||1,start=+svg.getAttribute('data-started')||0;
          var pts=(svg.getAttribute('data-samples')||'').split(',').filter(Boolean).map(function(p){var a=p.split(':');return[+a[0],+a[1]];});
          var NS='http://www.w3.org/2000/svg';
          function line(points,color){var l=document.createElementNS(NS,'polyline');l.setAttribute('points',points.join(' '));
            l.setAttribute('fill','none');l.setAttribute('stroke',color);l.setAttribute('stroke-width','2');svg.appendChild(l);}
          function label(x,y,text,anchor){var t=document.createElementNS(NS,'text');t.setAttribute('x',x);t.setAttribute('y',y);
            t.setAttribute('font-size','11');t.setAttribute('fill','#6b7385');t.setAttribute('text-anchor',anchor);t.textContent=text;svg.appendChild(t);}
          function draw(){
            while(svg.firstChild)svg.removeChild(svg.firstChild);
            if(pts.length<1)return;var t0=pts[0][0],t1=Math.max(pts[pts.length-1][0],t0+1);
            var x=function(t){return 5+590*(t-t0)/(t1-t0);};
            line(pts.map(function(p){return x(p[0]).toFixed(1)+','+(155-150*Math.min(1,p[1]/max)).toFixed(1);}),'#2f7d4f');
            label(8,14,'100 %','start');label(592,152,(t1-t0)+' s','end');label(8,152,'0 s','start');
            var rates=[],top=0;
            for(var i=1;i<pts.length;i++){var dt=pts[i][0]-pts[i-1][0];if(dt<=0)continue;var r=(pts[i][1]-pts[i-1][1])/dt;rates.push([pts[i][0],r]);top=Math.max(top,r);}
            if(rates.length){line(rates.map(function(p){return x(p[0]).toFixed(1)+','+(155-150*(top?p[1]/top:0)).toFixed(1);}),'#2f5fd0');
              document.getElementById('rate').textContent=rates[rates.length-1][1].toFixed(1)+' images/s now, peak '+top.toFixed(1);}
          }
          draw();
          var done={completed:1,failed:1,cancelled:1},id=svg.getAttribute('data-job');
          function poll(){fetch('/v1/jobs/'+id,{credentials:'same-origin'}).then(function(r){return r.ok?r.json():null;}).then(function(j){
            if(!j)return;if(!start&&j.started_at)start=Date.parse(j.started_at)/1000;
            var t=start?Math.round(Date.now()/1000-start):0,v=j.counters.valid_images;
            if(!pts.length||pts[pts.length-1][1]!=v||done[j.status])pts.push([t,v]);draw();
            if(!done[j.status])setTimeout(poll,2000);});}
          poll();
        })();
        """
}
