// An independent OpenIGTLink peer for the scanner-link tests, built against
// the OpenIGTLink reference library (Debian's libopenigtlink-dev).
//
//   igtl_peer serve COUNT OUTDIR
//       Listens on a free 127.0.0.1 port and prints "listening PORT".  For
//       the first client (waiting at most 20 s) it sends a hello STRING, a
//       STATUS and COUNT IMAGE messages packed by the library.  The frames
//       alternate between 96x64 RGB and 80x60 gray, and their expected pixels
//       go to OUTDIR/expected-rgb.ppm and OUTDIR/expected-gray.pgm.
//
//   igtl_peer check PORT COUNT
//       Connects to 127.0.0.1:PORT, sends a control STRING, and receives
//       until COUNT IMAGE messages arrived (at most 20 s).  Every message must
//       pass the library's CRC check and unpacking; IMAGE must be 8-bit
//       unsigned 2-D with 1 or 3 components and a positive spacing, STRING
//       UTF-8 or US-ASCII, STATUS code OK.  A hello STRING and a STATUS must
//       arrive too.
//
// Exit status 0 when every check passed, 1 otherwise.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "igtlClientSocket.h"
#include "igtlImageMessage.h"
#include "igtlMessageHeader.h"
#include "igtlOSUtil.h"
#include "igtlStatusMessage.h"
#include "igtlStringMessage.h"

namespace {

struct Frame {
	int width, height, components;
	std::string pixels;
};

Frame make_frame(int width, int height, int components)
{
	Frame f = { width, height, components, std::string() };

	for (int y = 0; y < height; y++)
		for (int x = 0; x < width * components; x++)
			f.pixels.push_back(static_cast<char>((x * 5 + y * 3 + (x % 3) * 40) & 0xff));
	return f;
}

bool write_pnm(const std::string &path, const Frame &f)
{
	FILE *out = std::fopen(path.c_str(), "wb");

	if (!out)
		return false;
	std::fprintf(out, "P%c\n%d %d\n255\n", f.components == 1 ? '5' : '6', f.width, f.height);
	bool ok = std::fwrite(f.pixels.data(), 1, f.pixels.size(), out) == f.pixels.size();
	return std::fclose(out) == 0 && ok;
}

bool send_all(int fd, const void *data, size_t n)
{
	const char *p = static_cast<const char *>(data);

	while (n > 0) {
		ssize_t put = send(fd, p, n, MSG_NOSIGNAL);
		if (put <= 0)
			return false;
		p += put;
		n -= static_cast<size_t>(put);
	}
	return true;
}

bool send_image(int fd, const Frame &f)
{
	igtl::ImageMessage::Pointer msg = igtl::ImageMessage::New();
	int size[3] = { f.width, f.height, 1 };
	int offset[3] = { 0, 0, 0 };
	float spacing[3] = { 0.3f, 0.4f, 1.0f };

	msg->SetDimensions(size);
	msg->SetSpacing(spacing);
	msg->SetScalarType(igtl::ImageMessage::TYPE_UINT8);
	msg->SetNumComponents(f.components);
	msg->SetDeviceName("igtl-peer");
	msg->SetSubVolume(size, offset);
	msg->AllocateScalars();
	std::memcpy(msg->GetScalarPointer(), f.pixels.data(), f.pixels.size());
	igtl::TimeStamp::Pointer ts = igtl::TimeStamp::New();
	ts->GetTime();
	msg->SetTimeStamp(ts);
	msg->Pack();
	return send_all(fd, msg->GetPackPointer(), msg->GetPackSize());
}

bool send_text(int fd)
{
	igtl::StringMessage::Pointer hello = igtl::StringMessage::New();
	igtl::StatusMessage::Pointer status = igtl::StatusMessage::New();

	hello->SetDeviceName("igtl-peer");
	hello->SetEncoding(106);
	hello->SetString("{\"serial\":\"IGTL-PEER\",\"model\":\"OpenIGTLink library peer\"}");
	hello->Pack();
	status->SetDeviceName("igtl-peer");
	status->SetCode(igtl::StatusMessage::STATUS_OK);
	status->SetSubCode(0);
	status->SetErrorName("");
	status->SetStatusString("{\"battery_pct\":42,\"temperature_c\":25.5}");
	status->Pack();
	return send_all(fd, hello->GetPackPointer(), hello->GetPackSize()) &&
		send_all(fd, status->GetPackPointer(), status->GetPackSize());
}

int listen_loopback(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in addr = {};
	socklen_t len = sizeof(addr);

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0 ||
	    listen(fd, 1) < 0 || getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) < 0) {
		std::perror("igtl_peer: listen");
		return -1;
	}
	std::printf("listening %u\n", ntohs(addr.sin_port));
	std::fflush(stdout);
	return fd;
}

int serve(int count, const std::string &outdir)
{
	Frame rgb = make_frame(96, 64, 3), gray = make_frame(80, 60, 1);
	int lfd, fd;
	pollfd p;

	if (!write_pnm(outdir + "/expected-rgb.ppm", rgb) ||
	    !write_pnm(outdir + "/expected-gray.pgm", gray)) {
		std::fprintf(stderr, "igtl_peer: cannot write to %s\n", outdir.c_str());
		return 1;
	}
	lfd = listen_loopback();
	if (lfd < 0)
		return 1;
	p.fd = lfd;
	p.events = POLLIN;
	if (poll(&p, 1, 20000) != 1 || (fd = accept(lfd, nullptr, nullptr)) < 0) {
		std::fprintf(stderr, "igtl_peer: no client within 20 s\n");
		return 1;
	}
	bool ok = send_text(fd);
	for (int i = 0; ok && i < count; i++) {
		ok = send_image(fd, i % 2 ? gray : rgb);
		igtl::Sleep(10);
	}
	igtl::Sleep(500); // let the client read before the connection closes
	close(fd);
	close(lfd);
	std::fprintf(stderr, "igtl_peer: sent %d frames\n", count);
	return 0;
}

// Receives the body for header and checks it with the library.  Returns
// false on a receive, CRC or content failure.
bool check_message(igtl::ClientSocket::Pointer &sock, igtl::MessageHeader::Pointer &header,
	int *images, int *strings, int *statuses)
{
	std::string type = header->GetDeviceType();
	igtl::MessageBase::Pointer msg;
	igtl::ImageMessage::Pointer image;
	igtl::StringMessage::Pointer text;
	igtl::StatusMessage::Pointer status;

	if (type == "IMAGE")
		msg = image = igtl::ImageMessage::New();
	else if (type == "STRING")
		msg = text = igtl::StringMessage::New();
	else if (type == "STATUS")
		msg = status = igtl::StatusMessage::New();
	else {
		std::fprintf(stderr, "igtl_peer: unexpected message type %s\n", type.c_str());
		return false;
	}
	msg->SetMessageHeader(header);
	msg->AllocatePack();
	if (sock->Receive(msg->GetPackBodyPointer(), msg->GetPackBodySize()) !=
	    static_cast<int>(msg->GetPackBodySize())) {
		std::fprintf(stderr, "igtl_peer: short %s body\n", type.c_str());
		return false;
	}
	if (!(msg->Unpack(1) & igtl::MessageHeader::UNPACK_BODY)) {
		std::fprintf(stderr, "igtl_peer: %s failed the library's CRC check or unpacking\n",
			type.c_str());
		return false;
	}
	if (image) {
		int size[3];
		float spacing[3];

		image->GetDimensions(size);
		image->GetSpacing(spacing);
		if (image->GetScalarType() != igtl::ImageMessage::TYPE_UINT8 || size[2] != 1 ||
		    size[0] <= 0 || size[1] <= 0 || spacing[0] <= 0 || spacing[1] <= 0 ||
		    (image->GetNumComponents() != 1 && image->GetNumComponents() != 3)) {
			std::fprintf(stderr, "igtl_peer: IMAGE %dx%dx%d is not an 8-bit 2-D frame\n",
				size[0], size[1], size[2]);
			return false;
		}
		if (*images == 0)
			std::printf("image %dx%d components %d spacing %.4f %.4f\n", size[0], size[1],
				image->GetNumComponents(), spacing[0], spacing[1]);
		(*images)++;
	} else if (text) {
		if (text->GetEncoding() != 106 && text->GetEncoding() != 3)
			return false;
		std::printf("string %s\n", text->GetString());
		(*strings)++;
	} else {
		if (status->GetCode() != igtl::StatusMessage::STATUS_OK)
			return false;
		if (*statuses == 0)
			std::printf("status %s\n", status->GetStatusString());
		(*statuses)++;
	}
	return true;
}

bool send_control(igtl::ClientSocket::Pointer &sock)
{
	igtl::StringMessage::Pointer control = igtl::StringMessage::New();

	control->SetDeviceName("igtl-peer");
	control->SetEncoding(106);
	control->SetString("{\"depth_mm\":80,\"gain_db\":6}");
	control->Pack();
	return sock->Send(control->GetPackPointer(), control->GetPackSize()) != 0;
}

int check(int port, int count)
{
	igtl::ClientSocket::Pointer sock = igtl::ClientSocket::New();
	igtl::MessageHeader::Pointer header = igtl::MessageHeader::New();
	int images = 0, strings = 0, statuses = 0, messages = 0;

	if (sock->ConnectToServer("127.0.0.1", port) != 0) {
		std::fprintf(stderr, "igtl_peer: cannot connect to 127.0.0.1:%d\n", port);
		return 1;
	}
	sock->SetReceiveTimeout(20000);
	if (!send_control(sock))
		return 1;
	while (images < count && messages < 10 * count + 10) {
		header->InitPack();
		if (sock->Receive(header->GetPackPointer(), header->GetPackSize()) !=
		    header->GetPackSize()) {
			std::fprintf(stderr, "igtl_peer: connection ended after %d messages\n", messages);
			return 1;
		}
		if (!(header->Unpack() & igtl::MessageHeader::UNPACK_HEADER))
			return 1;
		if (!check_message(sock, header, &images, &strings, &statuses))
			return 1;
		messages++;
	}
	sock->CloseSocket();
	std::printf("received %d images, %d strings, %d statuses\n", images, strings, statuses);
	return images == count && strings >= 1 && statuses >= 1 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 4 && std::strcmp(argv[1], "serve") == 0)
		return serve(std::atoi(argv[2]), argv[3]);
	if (argc == 4 && std::strcmp(argv[1], "check") == 0)
		return check(std::atoi(argv[2]), std::atoi(argv[3]));
	std::fprintf(stderr, "usage: igtl_peer serve COUNT OUTDIR | igtl_peer check PORT COUNT\n");
	return 2;
}
