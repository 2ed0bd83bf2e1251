package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"rsc.io/qr"
)

// qrModulePixels is the size of one QR module in the image: a link of
// about 40 characters makes a code of 33 modules, 41 with the quiet zone,
// so about 490 pixels, crisp when the page scales it up on a projector.
const qrModulePixels = 12

// serveRoomQR is a PNG QR code of the room's join link, as the owner's
// page shows it (see reachOf): students point their phone at the
// projected screen. 404 when no student can reach the server.
func (s *Server) serveRoomQR(w http.ResponseWriter, r *http.Request) {
	room, err := s.findRoom(r, chi.URLParam(r, "code"))
	if err != nil {
		rf := s.counted(s.refusalOf(err))
		http.Error(w, rf.message, rf.status())
		return
	}
	reach := s.reachOf(r, room)
	if len(reach.Links) == 0 {
		http.Error(w, "students cannot reach this server: it listens on this machine only", http.StatusNotFound)
		return
	}
	code, err := qr.Encode(reach.Links[0]+"/r/"+room.Code, qr.M)
	if err != nil {
		s.log.Error("encode QR code", "room", room.Code, "err", err)
		http.Error(w, "the QR code could not be made", http.StatusInternalServerError)
		return
	}
	code.Scale = qrModulePixels
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(code.PNG())
}
