import Foundation
import PixCore
import PixStore

/// Everything the dashboard page shows for one job.
struct DashboardJob: Sendable {
    var job: CrawlJob
    var rejects: [(category: ErrorCategory, count: Int)]
    var exports: [ExportSummary]
}

/// Everything the dashboard page shows.
struct DashboardModel: Sendable {
    var caller: Caller
    var projects: [(project: Project, jobs: [DashboardJob])]
    var workers: [WorkerRecord]?
    var exportsAvailable: Bool
    var now: Date
    /// The "start a crawl" form as typed, and the API's answer to it when it was refused.
    var form = JobForm()
    var formError: APIError?
    /// The caller's uploaded URL lists (`POST /v1/lists`), offered as sources.
    var lists: [URLListRecord] = []
}

/// Server-rendered HTML of the dashboard: complete without JavaScript (a meta refresh in `<noscript>`
/// keeps it current), with a few lines of script that poll the job endpoint and update progress in place.
enum DashboardPage {
    static let style = """
        body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
        header{background:#1d2330;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
        header form{display:inline} main{padding:1rem 1.5rem;max-width:1100px}
        section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:1rem 1.2rem;margin:1rem 0}
        h1{font-size:1.2rem;margin:0} h2{font-size:1.1rem;margin:.2rem 0 .6rem} h3{font-size:1rem;margin:.8rem 0 .3rem}
        table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eceef2;vertical-align:top}
        .bar{background:#e6e9ef;border-radius:4px;height:14px;width:180px;display:inline-block;vertical-align:middle;overflow:hidden}
        .fill{display:block;background:#2f7d4f;height:100%}
        .muted{color:#6b7385} .status{font-weight:600} .reject{display:inline-block;margin-right:.6rem}
        button,input,select{font:inherit} form.inline{display:inline} .signin{max-width:420px;margin:4rem auto}
        .signin input{width:100%;padding:.4rem;margin:.4rem 0} .error{color:#a3262a;margin:.2rem 0}
        .job-form,.export-form{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:.6rem 1rem;align-items:start}
        .field label,.field legend{display:block;font-weight:600;font-size:.9rem;margin-bottom:.2rem}
        .field input,.field select,.field textarea{width:100%;box-sizing:border-box;padding:.35rem} .field input[type=checkbox]{width:auto}
        .wide{grid-column:1/-1} .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.6rem 1rem;margin-top:.5rem}
        fieldset{border:1px solid #dde1e7;border-radius:4px;margin:0} label.check{display:inline-block;margin-right:1rem;font-weight:400}
        [aria-invalid=true]{border-color:#a3262a;outline:1px solid #a3262a} :focus-visible{outline:2px solid #2f5fd0;outline-offset:2px}
        .gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem}
        .gallery figure{margin:0;background:#f0f2f5;border-radius:4px;overflow:hidden} .gallery figure.near{outline:2px dashed #c58a00}
        .gallery img{width:100%;height:150px;object-fit:cover;display:block}
        .gallery figcaption{font-size:.78rem;padding:.3rem;color:#4a5263;overflow-wrap:anywhere}
        .chart{width:100%;height:auto;max-height:220px;background:#fafbfc;border:1px solid #eceef2}
        .legend-progress{color:#2f7d4f} .legend-rate{color:#2f5fd0} details summary{cursor:pointer} li{overflow-wrap:anywhere}
        @media (max-width:640px){main{padding:.5rem} header{flex-wrap:wrap;padding:.6rem .8rem} section{padding:.7rem}
        td,th{display:block;border:0;padding:.15rem 0} tr{display:block;border-bottom:1px solid #eceef2;padding:.3rem 0}
        .bar{width:120px} .gallery{grid-template-columns:repeat(2,1fr)}}
        """

    static func document(title: String, refresh: Bool, body: String, script: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>\(HTML.escape(title))</title>\(refresh ? "<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>" : "")
        <style>\(style)</style></head>
        <body>\(body)\(script.isEmpty ? "" : "<script>\(script)</script>")</body></html>
        """
    }

    static func signIn(error: String?) -> String {
        document(
            title: "PixCrawler — sign in", refresh: false,
            body: """
                <main class="signin"><section><h1>PixCrawler</h1>
                <p class="muted">Sign in with an API token (create one with <code>pixcrawl user create --email …</code>), \
                or open the one-time link <code>pixcrawl serve</code> prints for the owner of CLI crawls.</p>
                \(error.map { "<p class=\"error\" id=\"signin-error\">\(HTML.escape($0))</p>" } ?? "")
                <form method="post" action="/login">
                <label for="token">API token</label><input id="token" name="token" type="password" autocomplete="off" required>
                <button type="submit">Sign in</button></form></section></main>
                """)
    }

    static func render(_ model: DashboardModel) -> String {
        var body = """
            <header><h1>PixCrawler</h1><div><span id="who">\(HTML.escape(model.caller.profile.email))</span>
            <span class="muted">(\(model.caller.profile.role.rawValue))</span>
            <form method="post" action="/logout"><button type="submit">Sign out</button></form></div></header><main>
            """
        body += model.form.render(projects: model.projects.map(\.project), lists: model.lists, error: model.formError)
        if model.projects.isEmpty {
            body += "<section><p>No projects yet: the form above creates one with your first crawl.</p></section>"
        }
        for (project, jobs) in model.projects {
            body += """
                <section id="project-\(project.id)"><h2>\(HTML.escape(project.name))
                <span class="muted">· \(project.status.rawValue) · project \(project.id)</span></h2>
                """
            if let description = project.description, !description.isEmpty {
                body += "<p class=\"muted\">\(HTML.escape(description))</p>"
            }
            if jobs.isEmpty { body += "<p class=\"muted\">No jobs.</p>" }
            for entry in jobs { body += renderJob(entry, exportsAvailable: model.exportsAvailable, now: model.now) }
            body += "</section>"
        }
        if let workers = model.workers {
            body += "<section id=\"workers\"><h2>Workers</h2>"
            if workers.isEmpty {
                body += "<p class=\"muted\">No workers registered.</p>"
            } else {
                body += "<table><tr><th>Worker</th><th>Host</th><th>PID</th><th>Status</th><th>Chunk</th><th>Heartbeat</th></tr>"
                for worker in workers {
                    body += """
                        <tr><td>\(HTML.escape(worker.id))</td><td>\(HTML.escape(worker.hostname))</td><td>\(worker.pid)</td>
                        <td>\(worker.status.rawValue)</td><td>\(worker.currentChunkID.map(String.init) ?? "—")</td>
                        <td>\(ago(worker.heartbeatAt, now: model.now))</td></tr>
                        """
                }
                body += "</table>"
            }
            body += "</section>"
        }
        body += "</main>"
        return document(title: "PixCrawler dashboard", refresh: true, body: body, script: script)
    }

    /// One job: status, live progress, counters, rejects, actions and exports (with the export form).
    /// - Parameters:
    ///   - exportForm: the export form's values; `exportError` is shown beside the input it concerns.
    static func renderJob(
        _ entry: DashboardJob, exportsAvailable: Bool, now: Date, exportForm: ExportForm = ExportForm(),
        exportError: APIError? = nil
    ) -> String {
        let job = entry.job
        let c = job.counters
        var html = """
            <article class="job" id="job-\(job.id)" data-job-id="\(job.id)" data-progress-history="\(job.progress)">
            <h3><a href="/jobs/\(job.id)">\(HTML.escape(job.name))</a> <span class="muted">· job \(job.id)</span></h3>
            <table><tr><td>Status</td><td class="status" data-field="status">\(job.status.rawValue)</td></tr>
            <tr><td>Progress</td><td><span class="bar"><span class="fill" data-field="bar" style="width:\(job.progress)%"></span></span>
            <span data-field="progress">\(job.progress)%</span>
            · <span data-field="valid">\(c.validImages)</span> of \(job.maxImages) images</td></tr>
            <tr><td>Chunks</td><td data-field="chunks">\(chunkText(c))</td></tr>
            <tr><td>Keywords</td><td>\(job.keywords.map(HTML.escape).joined(separator: ", "))</td></tr>
            <tr><td>Rejects</td><td data-field="rejects">
            """
        if entry.rejects.isEmpty {
            html += "<span class=\"muted\">none</span>"
        } else {
            for reject in entry.rejects {
                html += "<span class=\"reject\">\(reject.category.rawValue) \(reject.count)</span>"
            }
        }
        html += "</td></tr><tr><td>Actions</td><td>"
        if ![.completed, .failed, .cancelled].contains(job.status) {
            html += """
                <form class="inline" method="post" action="/dashboard/jobs/\(job.id)/cancel">\
                <button type="submit">Cancel job</button></form>
                """
        }
        if c.failedChunks > 0 && job.status != .cancelled {
            html += """
                <form class="inline" method="post" action="/dashboard/jobs/\(job.id)/retry-failed">\
                <button type="submit">Retry \(c.failedChunks) failed chunks</button></form>
                """
        }
        html += "<a href=\"/jobs/\(job.id)\">Images and rejects</a>"
        html += "</td></tr><tr><td>Exports</td><td>"
        if entry.exports.isEmpty { html += "<span class=\"muted\">none</span>" }
        for export in entry.exports {
            html +=
                "<div class=\"export\" data-export-status=\"\(export.status.rawValue)\" id=\"export-\(export.id)\">\(HTML.escape(export.format)) · \(export.status.rawValue) · \(export.progress)%"
            if let expires = export.expiresAt {
                let when = HTML.escape(ISO8601DateFormatter().string(from: expires))
                html +=
                    expires > now
                    ? " · <span class=\"muted\">newest link expires \(when)</span>"
                    : " · <span class=\"muted\">links expired \(when)</span>"
            }
            if export.status == .completed {
                html += """
                     <form class="inline" method="post" action="/dashboard/exports/\(export.id)/link">\
                    <button type="submit">Download (new 7-day link)</button></form>
                    """
            }
            html += "</div>"
        }
        if exportsAvailable { html += exportForm.render(jobID: job.id, error: exportError) }
        html += "</td></tr></table></article>"
        return html
    }

    static func chunkText(_ c: JobCounters) -> String {
        "\(c.totalChunks) total · \(c.pendingChunks) pending · \(c.activeChunks) active · \(c.completedChunks) completed · "
            + "\(c.failedChunks) failed · \(c.cancelledChunks) cancelled"
    }

    static func ago(_ date: Date, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        return seconds < 120 ? "\(seconds) s ago" : "\(seconds / 60) min ago"
    }

    /// Polls every unfinished job and updates its status, progress bar and counters in place; stops polling a
    /// job once it is finished. The session cookie authenticates the requests.
    static let script = """
        (function(){
          var done={completed:1,failed:1,cancelled:1};
          function set(el,f,v){var n=el.querySelector('[data-field="'+f+'"]');if(n)n.textContent=v;}
          function poll(el){
            var id=el.getAttribute('data-job-id');
            fetch('/v1/jobs/'+id,{credentials:'same-origin'}).then(function(r){return r.ok?r.json():null;}).then(function(j){
              if(!j)return;var c=j.counters;
              set(el,'status',j.status);set(el,'progress',j.progress+'%');set(el,'valid',c.valid_images);
              el.querySelector('[data-field="bar"]').style.width=j.progress+'%';
              set(el,'chunks',c.total_chunks+' total · '+c.pending_chunks+' pending · '+c.active_chunks+' active · '+
                c.completed_chunks+' completed · '+c.failed_chunks+' failed · '+c.cancelled_chunks+' cancelled');
              var h=el.getAttribute('data-progress-history').split(',');
              if(h[h.length-1]!=String(j.progress))el.setAttribute('data-progress-history',h.concat([j.progress]).join(','));
              if(!done[j.status])setTimeout(function(){poll(el);},2000);
            }).catch(function(){setTimeout(function(){poll(el);},5000);});
          }
          if(document.querySelector('[data-export-status=pending],[data-export-status=running]'))
            setTimeout(function(){location.reload();},3000);
          document.querySelectorAll('[data-job-id]').forEach(function(el){
            if(!done[el.querySelector('[data-field="status"]').textContent])poll(el);
          });
        })();
        """
}
