// The simulator's Python binding. The HTML a view shows in Jupyter (see view_class in views.h).
#include "bindings/views.h"

namespace gk {

static std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

// A list of views shows one per line; anything else its repr.
static std::string cell(py::handle v) {
    if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        std::string out;
        for (auto item : v) out += (out.empty() ? "" : "<br>") + escape(py::repr(item).cast<std::string>());
        return out.empty() ? "[]" : out;
    }
    return escape(py::repr(v).cast<std::string>());
}

std::string view_html(py::handle self, const std::string& title, const std::vector<std::string>& fields) {
    std::string out = "<table><caption style=\"text-align:left\"><b>" + escape(title) + "</b></caption>";
    for (auto& f : fields) {
        std::string value;
        try {
            value = cell(self.attr(f.c_str()));
        } catch (py::error_already_set& e) {
            value = "<i>" + escape(e.what()) + "</i>";
        }
        out += "<tr><th style=\"text-align:left\">" + escape(f) + "</th><td style=\"text-align:left\"><code>" + value + "</code></td></tr>";
    }
    return out + "</table>";
}

}  // namespace gk
